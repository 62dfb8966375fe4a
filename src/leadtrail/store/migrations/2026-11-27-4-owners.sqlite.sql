-- The owner's dashboard (/cp/): owner accounts, their sessions, login throttling shared by every
-- worker process, and the one-time link that creates the first owner. Same tables as the
-- PostgreSQL twin with SQLite's nearest types (timestamps as fixed-width ISO 8601 UTC text).
create table if not exists cp_owners (
id integer primary key autoincrement,
email text not null unique,
password_hash text not null,
created_at text not null,
last_login_at text
);
create table if not exists cp_sessions (
id_hash text primary key,
owner_id integer not null references cp_owners (id) on delete cascade,
created_at text not null,
seen_at text not null,
expires_at text not null
);
create index if not exists cp_sessions_owner_idx on cp_sessions (owner_id);
create index if not exists cp_sessions_expires_idx on cp_sessions (expires_at);
create table if not exists cp_login_attempts (
id integer primary key autoincrement,
account_key text not null,
address_key text not null,
created_at text not null
);
create index if not exists cp_login_attempts_account_idx on cp_login_attempts (account_key, created_at);
create index if not exists cp_login_attempts_address_idx on cp_login_attempts (address_key, created_at);
create index if not exists cp_login_attempts_created_idx on cp_login_attempts (created_at);
create table if not exists cp_setup_tokens (
token_hash text primary key,
nonce text not null,
created_at text not null,
expires_at text not null,
used_at text
);
create index if not exists cp_journeys_insights_idx
on submission_journeys (created_at, first_channel, landing_page, visits, page_views, time_to_enquiry_ms);
