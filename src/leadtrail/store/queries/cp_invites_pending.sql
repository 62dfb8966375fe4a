-- Invites that still work, newest first, with the address of the owner who made each.
select i.id, i.email, i.role, i.created_at, i.expires_at, o.email as invited_by
from cp_invites i join cp_owners o on o.id = i.invited_by
where i.used_at is null and i.revoked_at is null and i.expires_at > :now
order by i.created_at desc, i.id desc
