-- The enquirer removed their browsing history: the events still buffered for their browser go too,
-- so nothing of it can be attached again (as an erasure does for an address).
delete from session_events
where anon_id = (select anon_id from submission_journeys where id = :id)
