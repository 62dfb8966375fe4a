delete from submission_journeys where email = :email
