-- A successful login forgives the account's failed attempts (the address's others stay).
delete from cp_login_attempts where account_key = :account_key
