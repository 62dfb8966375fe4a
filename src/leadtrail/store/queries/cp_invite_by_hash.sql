-- The invite behind a link, usable or not (the page says which: used, withdrawn, expired), with
-- the address of the owner who made it.
select i.id, i.email, i.role, i.expires_at, i.used_at, i.revoked_at, o.email as invited_by
from cp_invites i join cp_owners o on o.id = i.invited_by
where i.token_hash = :token_hash
