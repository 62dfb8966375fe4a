delete from submission_journeys
where id in (
  select id from submission_journeys
  where created_at < :before
  order by created_at
  limit :limit
)
