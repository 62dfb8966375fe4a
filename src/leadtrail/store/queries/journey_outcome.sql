select id, status, value, currency from submission_journeys where id = :id
