-- Writes journeys' facts, one JSON array of [journey_id, computed_at, first_channel, first_source,
-- first_landing, last_channel, last_source, last_landing, pages (JSON text), sample (JSON text)];
-- a journey deleted meanwhile is skipped. (r.value, not value: submission_journeys has a column of that name.)
insert into journey_facts (journey_id, computed_at, first_channel, first_source, first_landing,
                           last_channel, last_source, last_landing, pages, sample)
select json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
       json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'),
       json_extract(r.value, '$[6]'), json_extract(r.value, '$[7]'), json_extract(r.value, '$[8]'),
       json_extract(r.value, '$[9]')
from json_each(:rows) as r
where exists (select 1 from submission_journeys j where j.id = json_extract(r.value, '$[0]'))
on conflict (journey_id) do update set
  computed_at = excluded.computed_at, first_channel = excluded.first_channel,
  first_source = excluded.first_source, first_landing = excluded.first_landing,
  last_channel = excluded.last_channel, last_source = excluded.last_source,
  last_landing = excluded.last_landing, pages = excluded.pages, sample = excluded.sample
