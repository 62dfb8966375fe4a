-- The lead desk (0.2): each journey's outcome and value, and its spam score with the reasons.
-- status: open | won | lost | spam (checked by the application; a new journey starts open, or spam
-- when its score reaches SPAM_THRESHOLD). value: a number >= 0 in `currency`, or null.
alter table submission_journeys add column status text not null default 'open';
alter table submission_journeys add column value numeric;
alter table submission_journeys add column currency text;
alter table submission_journeys add column spam_score integer not null default 0;
alter table submission_journeys add column spam_reasons text not null default '[]';
create index if not exists submission_journeys_status_created_idx
on submission_journeys (status, created_at desc, id desc);
-- The e-mail search reads only an index (cp_search_*.sqlite.sql): it now filters by status too.
create index if not exists submission_journeys_email_status_idx
on submission_journeys (email, created_at, status);
