-- Group commit: one statement for every event of a batch, in one transaction. store/sqlite.py
-- repeats the VALUES row once per event (positional parameters, row after row), so the batch is
-- bound and stepped at once: the writer thread gives up the GIL once per batch, not once per row.
insert into session_events (anon_id, event_name, page_path, params, created_at)
values (?, ?, ?, ?, ?)
on conflict do nothing
