insert into cp_setup_tokens (token_hash, nonce, created_at, expires_at)
values (:token_hash, :nonce, :now, :expires_at)
