-- Sent (or given up, or left out): done for good, by the holder of the claim only.
update email_outbox set finished_at = :now, outcome = :outcome, last_error = :error, claim = null, claimed_until = null
where key = :key and claim = :claim
