select count(*) from session_events
