-- The first roll-up sets the watermark (0 rows: another worker did first).
update totals_rollup set through = :through where id = 1 and through is null
