-- One bounded batch of the prune, oldest first (session_events_created_idx).
delete from session_events
where id in (
  select id from session_events
  where created_at < :before
  order by created_at
  limit :limit
)
