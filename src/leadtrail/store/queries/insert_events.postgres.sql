-- Group commit: one statement for every event of a batch, sent as one JSON array of
-- [anon_id, event_name, page_path, params, created_at] rows (one parameter that PostgreSQL parses
-- once, instead of five arrays the driver encodes element by element). Duplicate
-- (anon_id, event_id) pairs hit session_events_event_id_idx and are skipped, so a resent event is
-- stored once.
insert into session_events (anon_id, event_name, page_path, params, created_at)
select r->>0, r->>1, r->>2, r->3, (r->>4)::timestamptz
from jsonb_array_elements(:events::jsonb) as r
on conflict do nothing
