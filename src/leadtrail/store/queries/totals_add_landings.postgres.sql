-- Adds one roll-up's counts to totals_landings: rows [day, page_path, visits] as one JSON array.
insert into totals_landings (day, page_path, visits)
select r->>0, r->>1, (r->>2)::bigint
from jsonb_array_elements(:rows::jsonb) as r
on conflict (day, page_path) do update set visits = totals_landings.visits + excluded.visits
