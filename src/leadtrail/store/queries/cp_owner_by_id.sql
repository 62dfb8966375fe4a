-- One owner by id: what the account page shows, and the hash a password change checks against.
select id, email, password_hash, role, created_at, last_login_at from cp_owners where id = :id
