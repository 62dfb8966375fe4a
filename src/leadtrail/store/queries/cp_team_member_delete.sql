delete from cp_owners where id = :id
