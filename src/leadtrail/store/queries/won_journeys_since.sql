-- Won enquiries submitted at or after :since, oldest first (submission_journeys_status_created_idx).
select id, email, anon_id, events, client_events, created_at, updated_at, form, consent,
       status, value, currency, spam_score, spam_reasons, touches
from submission_journeys
where status = 'won' and created_at >= :since
order by created_at, id
