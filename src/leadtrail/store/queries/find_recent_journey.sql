-- A promote's look, under its lock, in one statement: the same visitor's journey with this address
-- made recently, if any (the promote refreshes it instead of adding one: its browser events are
-- merged with the new ones; after the enquirer removed their history from it, nothing is attached
-- again), and, for a new journey's spam score, how many journeys this address and this visitor
-- made since :day_ago. Always one row; its journey columns are null when there is no such journey.
select r.id, r.client_events, r.touches, r.history_removed_at, r.created_at,
       (select count(*) from submission_journeys where email = :email and created_at >= :day_ago) as same_email,
       (select count(*) from submission_journeys where anon_id = :anon_id and created_at >= :day_ago) as same_visitor
from (select 1 as one) as o
left join (
  select id, client_events, touches, history_removed_at, created_at from submission_journeys
  where email = :email and anon_id = :anon_id and created_at >= :since
  order by created_at desc
  limit 1
) as r on true
