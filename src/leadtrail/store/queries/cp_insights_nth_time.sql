-- The :offset-th shortest time to enquiry of the range (the caller asks for the middle one).
select time_to_enquiry_ms from submission_journeys
where created_at >= :since and created_at < :until and time_to_enquiry_ms is not null
order by time_to_enquiry_ms
limit 1 offset :offset
