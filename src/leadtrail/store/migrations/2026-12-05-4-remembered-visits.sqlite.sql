-- The visitor's own browser's memory of earlier visits (start, landing page with its campaign tags
-- and click ids, referrer origin, page count), sent with a promote and kept with the journey.
alter table submission_journeys add column touches text not null default '[]';
