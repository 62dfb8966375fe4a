-- Compare-and-set: this sender takes the e-mail until :until only if it is still due and nobody
-- holds it; 0 rows changed means another worker (or host) took it first.
update email_outbox set claim = :claim, claimed_until = :until, attempts = attempts + 1
where key = :key and finished_at is null and due_at <= :now
  and (claimed_until is null or claimed_until <= :now)
