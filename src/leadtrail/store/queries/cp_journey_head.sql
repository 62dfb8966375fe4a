-- The few columns the erase confirmation needs, without the events.
select id, email, created_at from submission_journeys where id = :id and created_at >= :since
