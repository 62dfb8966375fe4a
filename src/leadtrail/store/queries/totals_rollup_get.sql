-- The roll-up's watermark: everything before `through` is in the daily totals (null: nothing yet).
select through from totals_rollup where id = 1
