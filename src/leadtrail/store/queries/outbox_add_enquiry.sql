-- A new enquiry's e-mail joins the outbox (notify/outbox.py); nothing when its journey is gone
-- (erased meanwhile) or the row is there already (a second announce of the same journey).
insert into email_outbox (key, kind, journey_id, link, created_at, due_at)
select :key, 'enquiry', j.id, :link, :created_at, :due_at
from submission_journeys j
where j.id = :journey_id
on conflict (key) do nothing
