select id, email, anon_id, events, client_events, created_at, updated_at, form, consent,
       status, value, currency, spam_score, spam_reasons, touches
from submission_journeys
where id = :id
