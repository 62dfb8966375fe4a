-- Adds one roll-up's counts to totals_views: rows [day, page_path, views] as one JSON array.
insert into totals_views (day, page_path, views)
select r->>0, r->>1, (r->>2)::bigint
from jsonb_array_elements(:rows::jsonb) as r
on conflict (day, page_path) do update set views = totals_views.views + excluded.views
