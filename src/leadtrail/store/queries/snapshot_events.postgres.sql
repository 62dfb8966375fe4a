-- snapshot_events on PostgreSQL: params as JSON text (orjson reads it faster than asyncpg's json
-- codec) and created_at already in the fixed-width ISO 8601 UTC form store.iso() makes. Measured
-- at 2,000 events among 10M rows: 11 ms with the Python dicts built, against 17 ms for one
-- json_agg document built by PostgreSQL (json_build_object per row is the slow part).
select id, event_name, page_path, params::text as params,
       to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') as created_at
from session_events
where anon_id = :anon_id and created_at >= :since
order by created_at, id
limit :limit
