-- The visitor's buffered events still inside the TTL, oldest first (session_events_anon_idx).
select id, event_name, page_path, params, created_at
from session_events
where anon_id = :anon_id and created_at >= :since
order by created_at, id
limit :limit
