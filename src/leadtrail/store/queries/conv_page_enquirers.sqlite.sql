-- Enquirers (spam left out) who saw each page, over journeys created in [:since, :until).
select p.value as page_path, count(*) as enquirers
from submission_journeys j
join journey_facts f on f.journey_id = j.id, json_each(f.pages) as p
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by p.value
