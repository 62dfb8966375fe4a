-- Daily totals of visits by channel and source for local days :first..:last ('YYYY-MM-DD').
select day, channel, source, visits from totals_visits where day >= :first and day <= :last
