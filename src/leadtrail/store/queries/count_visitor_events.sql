-- How many of the visitor's buffered events are inside the TTL (session_events_anon_idx only).
select count(*) from session_events
where anon_id = :anon_id and created_at >= :since
