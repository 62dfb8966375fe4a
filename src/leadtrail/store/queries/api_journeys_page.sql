-- One page of GET /api/v1/journeys, newest first, keyset on (created_at desc, id desc), optionally
-- of one status (submission_journeys_status_created_idx) and from a time on.
select id, email, anon_id, events, client_events, created_at, updated_at, form, consent,
       status, value, currency, spam_score, spam_reasons, touches
from submission_journeys
where created_at >= :since
  and (:any_status or status = :status)
  and (created_at, id) < (:cursor_at, :cursor_id)
order by created_at desc, id desc
limit :limit
