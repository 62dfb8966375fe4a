-- The team (issue 11, part 6): every dashboard account has a role, and owners invite others by a
-- one-time link. Accounts made before this migration are owners, as they always were.
--   owner   sees everything and may erase, export, change outcomes, manage API tokens and the team
--   viewer  sees every page, changes nothing and downloads nothing
alter table cp_owners add column role text not null default 'owner' check (role in ('owner', 'viewer'));
-- An invite is a link with 256 random bits, shown once to the owner who made it; only the bits'
-- SHA-256 is kept (like api_tokens: nothing to guess from the hash, so no slow hash is needed).
-- Usable while used_at and revoked_at are null and expires_at is ahead; an invite goes with the
-- owner who made it (cascade), so removing a member also withdraws the links they handed out.
create table if not exists cp_invites (
id bigserial primary key,
token_hash text not null unique,
-- trimmed and lower-cased, the address the new member signs in with
email text not null,
role text not null check (role in ('owner', 'viewer')),
invited_by bigint not null references cp_owners (id) on delete cascade,
created_at timestamptz not null,
expires_at timestamptz not null,
used_at timestamptz,
revoked_at timestamptz
);
create index if not exists cp_invites_pending_idx on cp_invites (email) where used_at is null and revoked_at is null;
