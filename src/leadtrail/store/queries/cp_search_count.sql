select count(*) from (
  select 1 from submission_journeys
  where email like :pattern escape '\' and created_at >= :since and created_at < :until and (status = 'spam') = :spam
  limit :cap
) as capped
