select name, created_at, last_used_at from api_tokens where revoked_at is null order by created_at, id
