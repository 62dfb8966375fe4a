select id, name, last_used_at from api_tokens where token_hash = :token_hash and revoked_at is null
