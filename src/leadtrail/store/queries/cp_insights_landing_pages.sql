-- Landing pages of first visits that led to an enquiry, most frequent first.
select landing_page, count(*) as n, avg(visits) as avg_visits
from submission_journeys
where created_at >= :since and created_at < :until and landing_page is not null
group by landing_page
order by n desc, landing_page
limit :limit
