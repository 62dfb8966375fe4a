-- The seed's tables (shared/seed/journeys_schema.sql) with SQLite's nearest types:
-- bigserial -> integer primary key autoincrement, jsonb -> JSON text, timestamptz -> ISO 8601 UTC
-- text of fixed width (so text order is time order).
create table if not exists session_events (
id integer primary key autoincrement,
anon_id text not null,
event_name text not null,
page_path text,
params text not null default '{}',
created_at text not null default (strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000+00:00')
);
create index if not exists session_events_anon_idx
on session_events (anon_id, created_at);
create index if not exists session_events_created_idx
on session_events (created_at);
create table if not exists submission_journeys (
id integer primary key autoincrement,
email text not null,
anon_id text,
events text not null default '[]',
client_events text not null default '[]',
created_at text not null default (strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000+00:00')
);
create index if not exists submission_journeys_email_idx
on submission_journeys (email, created_at desc);
