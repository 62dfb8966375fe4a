-- A new invite (team.create_invite): only the SHA-256 of its link's token is kept.
insert into cp_invites (token_hash, email, role, invited_by, created_at, expires_at)
values (:token_hash, :email, :role, :invited_by, :now, :expires_at)
returning id
