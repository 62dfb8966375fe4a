-- A new password (argon2id PHC string): changed on the account page or by `leadtrail user passwd`.
update cp_owners set password_hash = :password_hash where id = :id
