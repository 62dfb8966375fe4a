-- One page of the enquiry list, newest first, after the cursor (keyset on created_at desc, id desc:
-- submission_journeys_created_idx), inside [since, until).
select id, email, form, consent, created_at, first_channel, first_source, landing_page, visits, page_views, time_to_enquiry_ms,
       status, value, currency, spam_score, spam_reasons
from submission_journeys
where created_at >= :since and created_at < :until and (status = 'spam') = :spam
  and (created_at, id) < (:cursor_at, :cursor_id)
order by created_at desc, id desc
limit :limit
