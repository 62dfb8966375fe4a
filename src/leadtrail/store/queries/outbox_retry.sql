-- The attempt failed: the next one is due at :due (backoff), any worker may take it then.
update email_outbox set due_at = :due, last_error = :error, claim = null, claimed_until = null
where key = :key and claim = :claim
