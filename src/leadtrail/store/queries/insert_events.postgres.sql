-- Group commit: one statement for every event of a batch. Duplicate (anon_id, event_id) pairs
-- hit session_events_event_id_idx and are skipped, so a resent event is stored once.
insert into session_events (anon_id, event_name, page_path, params, created_at)
select a, n, p, j::jsonb, c
from unnest(:anon_ids::text[], :event_names::text[], :page_paths::text[], :params::text[], :created_ats::timestamptz[])
  as batch(a, n, p, j, c)
on conflict do nothing
