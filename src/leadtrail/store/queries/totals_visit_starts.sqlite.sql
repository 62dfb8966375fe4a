-- The events of [:since, :until) that may start a visit: each visitor's first event of the
-- stretch (prev null: the caller looks further back) and every event more than 30 minutes after
-- the visitor's previous one (journeys.VISIT_GAP; the order is journeys', created_at then id).
-- Times are fixed-width ISO text: prev + 30 minutes is its whole seconds moved, fraction kept.
-- The window sorts only (id, anon_id, created_at); the few starts are read back by id (a third
-- less CPU than carrying every column through the sort).
select e.anon_id, e.event_name, e.page_path, e.params, e.created_at, w.prev
from (
  select id, created_at,
         lag(created_at) over (partition by anon_id order by created_at, id) as prev
  from session_events
  where created_at >= :since and created_at < :until
) as w
join session_events as e on e.id = w.id
where w.prev is null
   or w.created_at > strftime('%Y-%m-%dT%H:%M:%S', substr(w.prev, 1, 19), '+30 minutes') || substr(w.prev, 20)
