-- Enquiries (spam left out) created in [:since, :until) by the channel and source of their first touch
-- (:first true) or last touch, with how many were won and their summed value.
select case when :first then f.first_channel else f.last_channel end as channel,
       case when :first then f.first_source else f.last_source end as source,
       count(*) as n,
       sum(case when j.status = 'won' then 1 else 0 end) as won,
       sum(case when j.status = 'won' then j.value end) as value
from submission_journeys j
join journey_facts f on f.journey_id = j.id
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by 1, 2
