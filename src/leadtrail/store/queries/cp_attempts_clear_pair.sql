-- A successful login forgives that client's attempts on that account; everyone else's stay.
delete from cp_login_attempts where account_key = :account_key and address_key = :address_key
