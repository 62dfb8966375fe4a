-- The newest :sample journeys of the range, events included (visit-level paths are rebuilt from them).
select id, email, anon_id, events, client_events, created_at, updated_at, form, consent
from submission_journeys
where created_at >= :since and created_at < :until
order by created_at desc, id desc
limit :sample
