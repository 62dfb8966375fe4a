-- A visitor's events from a visit's start (a visit not started by a page view: journeys finds its
-- landing page among them), oldest first (session_events_anon_idx).
select event_name, page_path, params, created_at
from session_events
where anon_id = :anon_id and created_at >= :since and created_at < :until
order by created_at, id
limit 500
