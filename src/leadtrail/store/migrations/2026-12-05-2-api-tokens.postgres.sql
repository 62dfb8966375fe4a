-- API tokens for /api/v1/ (`leadtrail token create NAME`, the Account page). Only a SHA-256 of the
-- token is kept: the token is 256 random bits, so a fast hash is as safe as a slow one and the
-- check costs one index lookup per request.
create table if not exists api_tokens (
id bigserial primary key,
name text not null,
token_hash text not null unique,
created_at timestamptz not null,
last_used_at timestamptz,
revoked_at timestamptz
);
create unique index if not exists api_tokens_live_name_idx on api_tokens (name) where revoked_at is null;
