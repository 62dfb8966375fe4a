-- A second account with the same address is refused (nothing returned) rather than raising.
insert into cp_owners (email, password_hash, role, created_at)
values (:email, :password_hash, :role, :created_at)
on conflict (email) do nothing
returning id
