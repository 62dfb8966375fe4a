select count(*) from submission_journeys where anon_id = :anon_id and created_at >= :since and id <> :id
