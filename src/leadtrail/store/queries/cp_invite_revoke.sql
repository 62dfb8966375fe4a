update cp_invites set revoked_at = :now where id = :id and used_at is null and revoked_at is null
