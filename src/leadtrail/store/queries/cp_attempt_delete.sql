delete from cp_login_attempts where id = :id
