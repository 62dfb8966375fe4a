select count(*) from api_tokens where name = :name and revoked_at is null
