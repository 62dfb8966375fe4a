select token_hash, nonce, expires_at from cp_setup_tokens
where used_at is null and expires_at > :now
order by created_at desc
limit 1
