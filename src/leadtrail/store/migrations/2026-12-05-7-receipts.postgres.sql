-- The enquirer's receipt: when they removed their browsing history from their enquiry (null: never).
alter table submission_journeys add column history_removed_at timestamptz;
