-- leadtrail's e-mails waiting to go out (notify/outbox.py): one row per new-enquiry e-mail
-- (`journey:<id>`, deleted with its journey) and per digest (`digest:daily:2026-12-05`). Written
-- when a promote announces a new enquiry, so a restart or crash loses none; each send is claimed
-- by compare-and-set (`claim`, `claimed_until`), so several workers or hosts send it once; kept
-- after it is sent (`finished_at`), so a digest's period is never sent twice. No address in it.
create table if not exists email_outbox (
key text primary key,
kind text not null,
journey_id bigint references submission_journeys (id) on delete cascade,
link text,
created_at text not null,
due_at text not null,
attempts integer not null default 0,
claim text,
claimed_until text,
last_error text,
finished_at text,
outcome text
);
create index if not exists email_outbox_due_idx on email_outbox (due_at) where finished_at is null;
create index if not exists email_outbox_journey_idx on email_outbox (journey_id);
