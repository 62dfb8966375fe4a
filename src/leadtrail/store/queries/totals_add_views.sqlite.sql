-- Adds one roll-up's counts to totals_views: rows [day, page_path, views] as one JSON array.
insert into totals_views (day, page_path, views)
select json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
from json_each(:rows)
where true
on conflict (day, page_path) do update set views = totals_views.views + excluded.views
