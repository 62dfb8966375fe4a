-- Enquirers (spam left out) who saw each page, over journeys created in [:since, :until).
select p.page_path, count(*) as enquirers
from submission_journeys j
join journey_facts f on f.journey_id = j.id
cross join lateral jsonb_array_elements_text(f.pages::jsonb) as p(page_path)
where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
group by p.page_path
