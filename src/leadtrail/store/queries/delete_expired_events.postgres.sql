-- One bounded batch of the prune, oldest first (session_events_created_idx). The rows are deleted
-- by their physical address (ctid), found under the statement's own snapshot: no second lookup
-- of each id in the primary key, which was over half the cost of a batch (bench/). The outer
-- created_at test is a recheck only.
delete from session_events
where ctid = any(array(
  select ctid from session_events
  where created_at < :before
  order by created_at
  limit :limit
))
and created_at < :before
