-- The owner's dashboard (/cp/): owner accounts, their sessions, login throttling shared by every
-- worker process, and the one-time link that creates the first owner. Timestamps are UTC.
create table if not exists cp_owners (
id bigserial primary key,
-- trimmed and lower-cased, like every e-mail address leadtrail stores
email text not null unique,
-- argon2id, PHC string format
password_hash text not null,
created_at timestamptz not null,
last_login_at timestamptz
);
-- A session is known by the SHA-256 of its cookie value only: a copy of this table logs no one in.
create table if not exists cp_sessions (
id_hash text primary key,
owner_id bigint not null references cp_owners (id) on delete cascade,
created_at timestamptz not null,
seen_at timestamptz not null,
expires_at timestamptz not null
);
create index if not exists cp_sessions_owner_idx on cp_sessions (owner_id);
create index if not exists cp_sessions_expires_idx on cp_sessions (expires_at);
-- One row per login attempt still inside the throttling window; keys are keyed hashes of the
-- e-mail typed and of the client address (never the raw address).
create table if not exists cp_login_attempts (
id bigserial primary key,
account_key text not null,
address_key text not null,
created_at timestamptz not null
);
create index if not exists cp_login_attempts_account_idx on cp_login_attempts (account_key, created_at);
create index if not exists cp_login_attempts_address_idx on cp_login_attempts (address_key, created_at);
create index if not exists cp_login_attempts_created_idx on cp_login_attempts (created_at);
-- The first-owner setup link. The token is HMAC(secret key, nonce): every worker prints the same
-- link, and neither the nonce nor the stored hash is enough to use it without the secret key.
create table if not exists cp_setup_tokens (
token_hash text primary key,
nonce text not null,
created_at timestamptz not null,
expires_at timestamptz not null,
used_at timestamptz
);
-- Insights read the list summary of a date range from this index alone (index-only scans).
create index if not exists cp_journeys_insights_idx
on submission_journeys (created_at, first_channel, landing_page, visits, page_views, time_to_enquiry_ms);
-- The e-mail search of the list walks this in list order and reads the address from the index
-- alone (index-only scan), stopping at a page of matches instead of reading every heap row.
create index if not exists cp_journeys_search_idx
on submission_journeys (created_at desc, id desc) include (email);
