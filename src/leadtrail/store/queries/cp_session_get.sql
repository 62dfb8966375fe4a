-- A live session and its account (with the role every guarded page checks): not past its
-- absolute expiry, not idle for too long.
select s.owner_id, s.seen_at, o.email, o.role
from cp_sessions s join cp_owners o on o.id = s.owner_id
where s.id_hash = :id_hash and s.expires_at > :now and s.seen_at > :idle_since
