-- Enquiries (spam left out) per local day; run once per stretch of constant UTC offset (:shift
-- seconds), like cp_insights_by_day.
select case when :shift = 0 then substr(j.created_at, 1, 10)
            else date(substr(j.created_at, 1, 19), :shift || ' seconds') end as day,
       count(*) as n
from submission_journeys j
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by 1
