-- How many rows the list holds, counting at most :cap (the page says "10,000+" past that).
select count(*) from (
  select 1 from submission_journeys
  where created_at >= :since and created_at < :until and (status = 'spam') = :spam
  limit :cap
) as capped
