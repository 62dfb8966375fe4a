-- A new invite to an address replaces its pending one: the earlier link stops working.
update cp_invites set revoked_at = :now
where email = :email and used_at is null and revoked_at is null
