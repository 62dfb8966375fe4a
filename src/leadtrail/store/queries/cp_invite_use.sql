-- Single use: only the first caller changes the row, and only while the invite still works.
update cp_invites set used_at = :now
where id = :id and token_hash = :token_hash and used_at is null and revoked_at is null and expires_at > :now
