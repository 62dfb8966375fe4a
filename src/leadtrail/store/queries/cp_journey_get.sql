select id, email, anon_id, events, client_events, created_at, updated_at, form, consent,
       status, value, currency, spam_score, spam_reasons, touches, history_removed_at
from submission_journeys
where id = :id and created_at >= :since
