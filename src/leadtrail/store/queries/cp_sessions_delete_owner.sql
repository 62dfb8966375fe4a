-- Every session of one owner (a password reset from the command line); cp_sessions_owner_idx.
delete from cp_sessions where owner_id = :owner_id
