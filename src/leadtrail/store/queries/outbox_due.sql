-- E-mails whose next attempt is due and that no sender holds (a holder that died lets go when
-- its claim runs out), oldest due first (email_outbox_due_idx).
select key, kind, journey_id, link, created_at, attempts
from email_outbox
where finished_at is null and due_at <= :now and (claimed_until is null or claimed_until <= :now)
order by due_at
limit :limit
