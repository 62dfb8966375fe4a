-- A digest's period joins the outbox once: the first worker to see the period end inserts it,
-- every other worker's insert of the same key does nothing (1 row changed: this one added it).
insert into email_outbox (key, kind, created_at, due_at)
values (:key, 'digest', :created_at, :due_at)
on conflict (key) do nothing
