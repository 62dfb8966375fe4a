-- Single use: only the first caller changes the row.
update cp_setup_tokens set used_at = :now
where token_hash = :token_hash and used_at is null and expires_at > :now
