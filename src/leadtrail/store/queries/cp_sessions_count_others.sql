-- How many other live sessions the owner has (same liveness rule as cp_session_get).
select count(*) as n from cp_sessions
where owner_id = :owner_id and id_hash <> :keep_hash and expires_at > :now and seen_at > :idle_since
