-- Same visitor, same address, recently: the promote refreshes this journey instead of adding one
-- (its browser events are merged with the new ones; after the enquirer removed their history
-- from it, nothing is attached again).
select id, client_events, touches, history_removed_at from submission_journeys
where email = :email and anon_id = :anon_id and created_at >= :since
order by created_at desc
limit 1
