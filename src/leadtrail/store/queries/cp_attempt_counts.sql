-- Attempts inside the window for this account and for this address (both index range scans),
-- with the oldest of each, which tells when the window frees a slot.
select
  (select count(*) from cp_login_attempts where account_key = :account_key and created_at >= :since) as account_n,
  (select min(created_at) from cp_login_attempts where account_key = :account_key and created_at >= :since) as account_oldest,
  (select count(*) from cp_login_attempts where address_key = :address_key and created_at >= :since) as address_n,
  (select min(created_at) from cp_login_attempts where address_key = :address_key and created_at >= :since) as address_oldest
