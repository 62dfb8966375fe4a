insert into cp_login_attempts (account_key, address_key, created_at)
values (:account_key, :address_key, :now)
returning id
