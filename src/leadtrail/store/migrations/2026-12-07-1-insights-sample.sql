-- The Insights page's part of each journey of its sample (insights.journey_sample as JSON: pages
-- read before the enquiry, first channels and landing pages, browser-only events), so the page
-- reads no journey's events. Null until the facts refresh computes it (facts_stale picks those up);
-- meanwhile the page rebuilds that journey from its events, as it did before.
alter table journey_facts add column sample text;
