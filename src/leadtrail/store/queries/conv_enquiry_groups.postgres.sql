-- Enquiries (spam left out) created in [:since, :until), grouped three ways in one pass over the
-- journeys and their facts: by the channel and source of their first touch (:first true) or last
-- touch (kind 'channel': key, source), by that touch's landing page (kind 'landing': key), each with
-- how many were won and their summed value, and by each page they saw (kind 'page': key, n).
-- The facts are read by their primary key between the range's lowest and highest journey id (ids
-- follow creation, so that is about the range's own rows), not by a scan of every journey's facts;
-- the join on journey_id keeps the result exact whatever the ids. OFFSET 0 keeps the id range's
-- subquery on the (created_at, ...) index.
with span as materialized (
  select min(id) as lo, max(id) as hi
  from (select id from submission_journeys where created_at >= :since and created_at < :until offset 0) as s
), e as materialized (
  select case when :first then f.first_channel else f.last_channel end as channel,
         case when :first then f.first_source else f.last_source end as source,
         case when :first then f.first_landing else f.last_landing end as landing,
         f.pages, j.status = 'won' as won, j.value
  from submission_journeys j
  join journey_facts f on f.journey_id = j.id
  where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
    and f.journey_id between (select lo from span) and (select hi from span)
)
select 'channel' as kind, channel as key, source, count(*) as n,
       count(*) filter (where won) as won, sum(value) filter (where won) as value
from e group by channel, source
union all
select 'landing', landing, null, count(*), count(*) filter (where won), sum(value) filter (where won)
from e group by landing
union all
select 'page', p.page_path, null, count(*), null, null
from e cross join lateral jsonb_array_elements_text(e.pages::jsonb) as p(page_path)
group by p.page_path
