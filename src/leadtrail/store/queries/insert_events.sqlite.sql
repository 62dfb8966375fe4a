-- Run with executemany inside one transaction per batch.
insert into session_events (anon_id, event_name, page_path, params, created_at)
values (:anon_id, :event_name, :page_path, :params, :created_at)
on conflict do nothing
