-- The oldest buffered event's time (session_events_created_idx): where the first roll-up begins.
select min(created_at) as first from session_events
