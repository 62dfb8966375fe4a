-- The visitor's newest enquiry of the last hour (the thank-you page's receipt link).
select id, created_at from submission_journeys
where anon_id = :anon_id and created_at >= :since
order by created_at desc, id desc
limit 1
