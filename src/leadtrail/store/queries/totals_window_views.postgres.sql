-- Page views of [:since, :until) by local day (created_at + :shift seconds, one stretch of
-- constant UTC offset) and page (path without query or fragment).
select ((created_at at time zone 'UTC') + cast(:shift as integer) * interval '1 second')::date::text as day,
       split_part(split_part(page_path, '#', 1), '?', 1) as page_path,
       count(*) as n
from session_events
where created_at >= :since and created_at < :until and event_name = 'page_view' and page_path is not null
group by 1, 2
