-- Enquiries per UTC day and first-touch channel, with the sums the insights page derives its
-- totals and per-channel figures from: one index-only pass over cp_journeys_insights_idx.
select (created_at at time zone 'UTC')::date as day, first_channel as channel, count(*) as n,
       sum(visits) as visits, sum(page_views) as page_views,
       count(time_to_enquiry_ms) as timed, sum(time_to_enquiry_ms) as time_ms
from submission_journeys
where created_at >= :since and created_at < :until
group by 1, 2
