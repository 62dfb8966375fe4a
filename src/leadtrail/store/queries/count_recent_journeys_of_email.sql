select count(*) from submission_journeys where email = :email and created_at >= :since and id <> :id
