-- Enquiries (spam left out) by local day and first/last touch, with won count and value. Run once
-- per stretch of constant UTC offset (:shift seconds), like cp_insights_by_day.
select ((j.created_at at time zone 'UTC') + cast(:shift as integer) * interval '1 second')::date::text as day,
       f.first_channel, f.first_source, f.first_landing, f.last_channel, f.last_source, f.last_landing,
       count(*) as n,
       count(*) filter (where j.status = 'won') as won,
       sum(j.value) filter (where j.status = 'won') as value
from submission_journeys j
join journey_facts f on f.journey_id = j.id
where j.created_at >= :since and j.created_at < :until and j.status is distinct from 'spam'
group by 1, 2, 3, 4, 5, 6, 7
