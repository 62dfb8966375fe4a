-- Time from first event to enquiry in buckets (0: under 2 minutes ... 6: a day or more;
-- -1: unknown) by visits before enquiring (1..4, 5: five or more; 0: no event recorded), in one
-- pass; the page shows both distributions.
select case
         when time_to_enquiry_ms is null then -1
         when time_to_enquiry_ms < 120000 then 0
         when time_to_enquiry_ms < 600000 then 1
         when time_to_enquiry_ms < 1800000 then 2
         when time_to_enquiry_ms < 7200000 then 3
         when time_to_enquiry_ms < 21600000 then 4
         when time_to_enquiry_ms < 86400000 then 5
         else 6
       end as time_bucket,
       case when coalesce(visits, 0) >= 5 then 5 else coalesce(visits, 0) end as visits,
       count(*) as n
from submission_journeys
where created_at >= :since and created_at < :until
group by 1, 2
