-- Adds one roll-up's counts to totals_landings: rows [day, page_path, visits] as one JSON array.
insert into totals_landings (day, page_path, visits)
select json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
from json_each(:rows)
where true
on conflict (day, page_path) do update set visits = totals_landings.visits + excluded.visits
