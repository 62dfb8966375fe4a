-- A page of the list for an e-mail search (substring, case-insensitive: addresses are stored
-- lower-cased; the caller escapes % and _). The inner query finds the page's ids; the outer one
-- reads only those rows.
select id, email, form, consent, created_at, first_channel, first_source, landing_page, visits, page_views, time_to_enquiry_ms,
       status, value, currency, spam_score, spam_reasons
from submission_journeys
where id in (
  select id from submission_journeys
  where email like :pattern escape '\'
    and created_at >= :since and created_at < :until and (status = 'spam') = :spam
    and (created_at, id) < (:cursor_at, :cursor_id)
  order by created_at desc, id desc
  limit :limit
)
order by created_at desc, id desc
