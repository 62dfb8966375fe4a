select id, email, password_hash, role from cp_owners where email = :email
