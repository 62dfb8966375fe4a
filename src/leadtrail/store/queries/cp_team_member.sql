select id, email, role from cp_owners where id = :id
