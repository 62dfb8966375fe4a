-- Page views of [:since, :until) by local day (created_at + :shift seconds, one stretch of
-- constant UTC offset; see cp_insights_by_day) and page (path without query or fragment).
select case when :shift = 0 then substr(created_at, 1, 10)
            else date(substr(created_at, 1, 19), :shift || ' seconds') end as day,
       substr(page_path, 1, min(
         case instr(page_path, '#') when 0 then length(page_path) else instr(page_path, '#') - 1 end,
         case instr(page_path, '?') when 0 then length(page_path) else instr(page_path, '?') - 1 end
       )) as page_path,
       count(*) as n
from session_events
where created_at >= :since and created_at < :until and event_name = 'page_view' and page_path is not null
group by 1, 2
