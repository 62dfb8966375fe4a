-- The events of [:since, :until) that may start a visit: each visitor's first event of the
-- stretch (prev null: the caller looks further back) and every event more than 30 minutes after
-- the visitor's previous one (journeys.VISIT_GAP; the order is journeys', created_at then id).
select anon_id, event_name, page_path, params, created_at, prev
from (
  select anon_id, event_name, page_path, params, created_at,
         lag(created_at) over (partition by anon_id order by created_at, id) as prev
  from session_events
  where created_at >= :since and created_at < :until
) as w
where prev is null or created_at > prev + interval '30 minutes'
