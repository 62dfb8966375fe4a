-- Enquiries per local day and first-touch channel, with the sums the insights page derives its
-- totals and per-channel figures from: one pass over cp_journeys_insights_idx (it covers this).
-- The caller runs this once per stretch of constant UTC offset (:shift seconds, localtime.py), so
-- the local day is the day of created_at + :shift. Timestamps are ISO text: with no shift the day
-- is their first ten characters; otherwise date() of the text cut to whole seconds (date() rounds
-- to milliseconds, which would carry 23:59:59.9999 into the next day).
select case when :shift = 0 then substr(created_at, 1, 10)
            else date(substr(created_at, 1, 19), :shift || ' seconds') end as day,
       first_channel as channel, count(*) as n,
       sum(visits) as visits, sum(page_views) as page_views,
       count(time_to_enquiry_ms) as timed, sum(time_to_enquiry_ms) as time_ms
from submission_journeys
where created_at >= :since and created_at < :until
group by 1, 2
