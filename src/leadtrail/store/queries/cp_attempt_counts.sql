-- Attempts inside the window for this account, for this client address, and for the pair
-- (account, client: an address or a known browser), all index range scans; the oldest of the
-- account's and the address's tell when the window frees a slot, and the pair's latest attempt
-- before this one (:id) when its growing delay ends.
select
  (select count(*) from cp_login_attempts where account_key = :account_key and created_at >= :since) as account_n,
  (select min(created_at) from cp_login_attempts where account_key = :account_key and created_at >= :since) as account_oldest,
  (select count(*) from cp_login_attempts where address_key = :address_key and created_at >= :since) as address_n,
  (select min(created_at) from cp_login_attempts where address_key = :address_key and created_at >= :since) as address_oldest,
  (select count(*) from cp_login_attempts
    where account_key = :account_key and address_key = :address_key and created_at >= :since) as pair_n,
  (select max(created_at) from cp_login_attempts
    where account_key = :account_key and address_key = :address_key and created_at >= :since and id <> :id) as pair_previous
