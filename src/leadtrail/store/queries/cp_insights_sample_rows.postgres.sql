-- Journeys of the insights sample whose sample part is missing or out of date, events included
-- (the page rebuilds them): ids as a JSON array.
select id, email, anon_id, events, client_events, created_at, updated_at, form, consent
from submission_journeys
where id = any(array(select jsonb_array_elements_text(:ids::jsonb)::bigint))
