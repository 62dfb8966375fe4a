select created_at from submission_journeys where id = :id
