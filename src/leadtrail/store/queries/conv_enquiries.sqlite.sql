-- Enquiries (spam left out) by local day and first/last touch, with won count and value. Run once
-- per stretch of constant UTC offset (:shift seconds), like cp_insights_by_day.
select case when :shift = 0 then substr(j.created_at, 1, 10)
            else date(substr(j.created_at, 1, 19), :shift || ' seconds') end as day,
       f.first_channel, f.first_source, f.first_landing, f.last_channel, f.last_source, f.last_landing,
       count(*) as n,
       sum(case when j.status = 'won' then 1 else 0 end) as won,
       sum(case when j.status = 'won' then j.value end) as value
from submission_journeys j
join journey_facts f on f.journey_id = j.id
where j.created_at >= :since and j.created_at < :until and j.status is not 'spam'
group by 1, 2, 3, 4, 5, 6, 7
