select count(*) as n from submission_journeys where email = :email
