-- Writes journeys' facts, one JSON array of [journey_id, computed_at, first_channel, first_source,
-- first_landing, last_channel, last_source, last_landing, pages (JSON text), sample (JSON text)];
-- a journey deleted meanwhile is skipped.
insert into journey_facts (journey_id, computed_at, first_channel, first_source, first_landing,
                           last_channel, last_source, last_landing, pages, sample)
select (r->>0)::bigint, (r->>1)::timestamptz, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9
from jsonb_array_elements(:rows::jsonb) as r
where exists (select 1 from submission_journeys j where j.id = (r->>0)::bigint)
on conflict (journey_id) do update set
  computed_at = excluded.computed_at, first_channel = excluded.first_channel,
  first_source = excluded.first_source, first_landing = excluded.first_landing,
  last_channel = excluded.last_channel, last_source = excluded.last_source,
  last_landing = excluded.last_landing, pages = excluded.pages, sample = excluded.sample
