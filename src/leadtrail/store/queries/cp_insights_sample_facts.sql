-- The newest :sample journeys of the range with their insights sample part (journey_facts.sample;
-- null when not computed yet) and the times that say whether it is current: no journey's events
-- are read. The journeys come from the covering index on (created_at desc, id desc) and their
-- updated_at from journeys_updated_idx (id, updated_at), not from the rows (on SQLite those hold
-- the events inline).
select s.id, s.created_at, u.updated_at, f.computed_at, f.sample
from (select id, created_at from submission_journeys
      where created_at >= :since and created_at < :until
      order by created_at desc, id desc
      limit :sample) as s
join submission_journeys u on u.id = s.id
left join journey_facts f on f.journey_id = s.id
order by s.created_at desc, s.id desc
