-- Every outbox row, oldest first (tests, and a look at what is waiting).
select key, kind, journey_id, link, created_at, due_at, attempts, claim, claimed_until, last_error, finished_at, outcome
from email_outbox
order by created_at, key
