-- Enquiries per local day and first-touch channel, with the sums the insights page derives its
-- totals and per-channel figures from: one index-only pass over cp_journeys_insights_idx.
-- The caller runs this once per stretch of constant UTC offset (:shift seconds, localtime.py), so
-- the local day is the day of created_at + :shift (the same on both databases, from Python's zones).
select ((created_at at time zone 'UTC') + cast(:shift as integer) * interval '1 second')::date as day,
       first_channel as channel, count(*) as n,
       sum(visits) as visits, sum(page_views) as page_views,
       count(time_to_enquiry_ms) as timed, sum(time_to_enquiry_ms) as time_ms
from submission_journeys
where created_at >= :since and created_at < :until
group by 1, 2
