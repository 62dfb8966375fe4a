-- Every session of one owner but the one given ("sign out everywhere else", a password change).
delete from cp_sessions where owner_id = :owner_id and id_hash <> :keep_hash
