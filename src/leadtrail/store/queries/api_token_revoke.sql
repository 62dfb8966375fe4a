update api_tokens set revoked_at = :now where name = :name and revoked_at is null
