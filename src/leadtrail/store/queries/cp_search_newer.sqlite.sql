-- SQLite twin of cp_search_newer.sql: the inner query scans the e-mail index (email, created_at and
-- the rowid cover it) instead of walking created_at order through whole rows, events included,
-- which SQLite's planner prefers and which reads every row's overflow pages when little matches.
select id, email, form, consent, created_at, first_channel, first_source, landing_page, visits, page_views, time_to_enquiry_ms,
       status, value, currency, spam_score, spam_reasons
from submission_journeys
where id in (
  select id from submission_journeys indexed by submission_journeys_email_status_idx
  where email like :pattern escape '\'
    and created_at >= :since and created_at < :until and (status = 'spam') = :spam
    and (created_at, id) > (:cursor_at, :cursor_id)
  order by created_at asc, id asc
  limit :limit
)
order by created_at asc, id asc
