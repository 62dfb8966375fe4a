-- Enquiries (spam left out) per local day; run once per stretch of constant UTC offset (:shift
-- seconds), like cp_insights_by_day.
select ((j.created_at at time zone 'UTC') + cast(:shift as integer) * interval '1 second')::date::text as day,
       count(*) as n
from submission_journeys j
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by 1
