select id, email, password_hash from cp_owners where email = :email
