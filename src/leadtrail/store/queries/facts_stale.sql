-- Journeys whose facts (journey_facts) are missing or older than the journey's last write, or
-- computed before they held the insights sample's part (sample null: an upgrade, a removed history).
select j.id, j.events, j.client_events, j.touches, j.created_at, j.updated_at
from submission_journeys j
left join journey_facts f on f.journey_id = j.id
where f.journey_id is null or f.computed_at < j.updated_at or f.sample is null
order by j.id
limit :limit
