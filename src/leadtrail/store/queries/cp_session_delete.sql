delete from cp_sessions where id_hash = :id_hash
