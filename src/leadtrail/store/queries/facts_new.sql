-- Journeys newer than every journey with facts (primary key range): what the read refreshes.
select j.id, j.events, j.client_events, j.touches, j.created_at, j.updated_at
from submission_journeys j
where j.id > (select coalesce(max(journey_id), 0) from journey_facts)
order by j.id
limit :limit
