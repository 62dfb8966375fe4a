-- Enquiries (spam left out) created in [:since, :until) by the landing page of their first touch
-- (:first true) or last touch, with how many were won and their summed value.
select case when :first then f.first_landing else f.last_landing end as page_path,
       count(*) as n,
       sum(case when j.status = 'won' then 1 else 0 end) as won,
       sum(case when j.status = 'won' then j.value end) as value
from submission_journeys j
join journey_facts f on f.journey_id = j.id
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by 1
