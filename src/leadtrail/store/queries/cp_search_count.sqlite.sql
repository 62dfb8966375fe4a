-- SQLite twin: count over the e-mail index alone (see cp_search_older.sqlite.sql).
select count(*) from (
  select 1 from submission_journeys indexed by submission_journeys_email_status_idx
  where email like :pattern escape '\' and created_at >= :since and created_at < :until and (status = 'spam') = :spam
  limit :cap
) as capped
