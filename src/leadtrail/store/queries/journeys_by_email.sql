-- Right of access: every journey of one address (submission_journeys_email_idx).
select id, email, anon_id, events, client_events, created_at, updated_at, form, consent, history_removed_at,
       status, value, currency, spam_score, spam_reasons, touches
from submission_journeys
where email = :email and created_at >= :since
order by created_at desc, id desc
