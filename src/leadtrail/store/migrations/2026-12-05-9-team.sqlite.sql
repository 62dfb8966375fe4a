-- The team (issue 11, part 6): every dashboard account has a role, and owners invite others by a
-- one-time link. Same as the PostgreSQL twin with SQLite's nearest types (timestamps as
-- fixed-width ISO 8601 UTC text). Accounts made before this migration are owners.
alter table cp_owners add column role text not null default 'owner' check (role in ('owner', 'viewer'));
create table if not exists cp_invites (
id integer primary key autoincrement,
token_hash text not null unique,
email text not null,
role text not null check (role in ('owner', 'viewer')),
invited_by integer not null references cp_owners (id) on delete cascade,
created_at text not null,
expires_at text not null,
used_at text,
revoked_at text
);
create index if not exists cp_invites_pending_idx on cp_invites (email) where used_at is null and revoked_at is null;
