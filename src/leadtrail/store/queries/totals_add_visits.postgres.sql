-- Adds one roll-up's counts to totals_visits: rows [day, channel, source, visits] as one JSON array.
insert into totals_visits (day, channel, source, visits)
select r->>0, r->>1, r->>2, (r->>3)::bigint
from jsonb_array_elements(:rows::jsonb) as r
on conflict (day, channel, source) do update set visits = totals_visits.visits + excluded.visits
