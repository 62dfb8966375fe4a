-- For each visitor of a stretch, their latest event in the 30 minutes before it (whether their
-- first event in the stretch continues a visit): session_events_anon_idx, ids as a JSON array.
select anon_id, max(created_at) as last
from session_events
where anon_id = any(array(select jsonb_array_elements_text(:ids::jsonb)))
  and created_at >= :since and created_at < :until
group by anon_id
