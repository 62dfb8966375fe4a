-- Compare-and-set of the watermark: changes one row only if no other roll-up moved it since it
-- was read (0 rows: another worker counted this stretch; the caller rolls its transaction back).
update totals_rollup set through = :through where id = 1 and through = :old
