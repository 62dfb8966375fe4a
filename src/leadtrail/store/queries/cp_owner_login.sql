-- After a successful login: record when, and store a rehashed password if the parameters moved on.
update cp_owners set last_login_at = :now, password_hash = coalesce(:password_hash, password_hash)
where id = :id
