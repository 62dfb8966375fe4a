-- Enquiries (spam left out) created in [:since, :until), grouped three ways in one pass over the
-- journeys and their facts: by the channel and source of their first touch (:first true) or last
-- touch (kind 'channel': key, source), by that touch's landing page (kind 'landing': key), each with
-- how many were won and their summed value, and by each page they saw (kind 'page': key, n).
-- The journeys come from journeys_conversions_idx, their facts by primary key; e, used three
-- times, is computed once.
with e as (
  select case when :first then f.first_channel else f.last_channel end as channel,
         case when :first then f.first_source else f.last_source end as source,
         case when :first then f.first_landing else f.last_landing end as landing,
         f.pages, j.status = 'won' as won, j.value
  from submission_journeys j
  join journey_facts f on f.journey_id = j.id
  where j.created_at >= :since and j.created_at < :until and j.status <> 'spam'
)
select 'channel' as kind, channel as key, source, count(*) as n,
       sum(won) as won, sum(case when won then value end) as value
from e group by channel, source
union all
select 'landing', landing, null, count(*), sum(won), sum(case when won then value end)
from e group by landing
union all
select 'page', p.value, null, count(*), null, null
from e, json_each(e.pages) as p
group by p.value
