-- The buffered events of visitors linked to this address are personal data now: erase them too.
delete from session_events
where anon_id in (
  select anon_id from submission_journeys where email = :email and anon_id is not null
)
