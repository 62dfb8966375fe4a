-- When the next unsent e-mail is due (null: none waits), so a sender sleeps until then.
select min(due_at) as next_due from email_outbox where finished_at is null
