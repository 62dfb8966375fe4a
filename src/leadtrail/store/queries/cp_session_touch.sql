update cp_sessions set seen_at = :now where id_hash = :id_hash
