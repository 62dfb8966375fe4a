-- snapshot_events, with PostgreSQL building the result: one JSON array of the events in the shape
-- Store.snapshot_events returns (created_at as fixed-width ISO 8601 UTC, like store.iso()), so the
-- server decodes one document instead of a row, a datetime and a params document per event.
select coalesce(json_agg(json_build_object(
         'id', id, 'event_name', event_name, 'page_path', page_path, 'params', params,
         'created_at', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
       order by created_at, id), '[]')::text as events
from (
  select id, event_name, page_path, params, created_at
  from session_events
  where anon_id = :anon_id and created_at >= :since
  order by created_at, id
  limit :limit
) as snapshot
