-- One stretch of the buffer for the roll-up, oldest first (session_events_created_idx).
select id, anon_id, event_name, page_path, params, created_at
from session_events
where created_at >= :since and created_at < :until
order by created_at, id
limit :limit
