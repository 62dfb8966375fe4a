insert into cp_sessions (id_hash, owner_id, created_at, seen_at, expires_at)
values (:id_hash, :owner_id, :now, :now, :expires_at)
