-- What the promote knows besides the snapshot, and the summary the dashboard lists and filters by,
-- computed once at promote time so the list is an index-backed query.
alter table submission_journeys add column updated_at timestamptz;
alter table submission_journeys add column form text;
alter table submission_journeys add column consent boolean;
alter table submission_journeys add column first_channel text;
alter table submission_journeys add column first_source text;
alter table submission_journeys add column landing_page text;
alter table submission_journeys add column visits integer;
alter table submission_journeys add column page_views integer;
alter table submission_journeys add column time_to_enquiry_ms bigint;
create index if not exists submission_journeys_created_idx
on submission_journeys (created_at desc, id desc);
create index if not exists submission_journeys_anon_idx
on submission_journeys (anon_id, created_at);
