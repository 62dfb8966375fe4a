-- A resent event (same visitor, same client event_id) is stored once: inserts use
-- "on conflict do nothing" against this index.
create unique index if not exists session_events_event_id_idx
on session_events (anon_id, (params->>'event_id'))
where (params->>'event_id') is not null;
