select id, email, events, client_events, touches, created_at, updated_at, form, consent, history_removed_at
from submission_journeys
where id = :id
