-- Adds one roll-up's counts to totals_visits: rows [day, channel, source, visits] as one JSON array.
insert into totals_visits (day, channel, source, visits)
select json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
from json_each(:rows)
where true
on conflict (day, channel, source) do update set visits = totals_visits.visits + excluded.visits
