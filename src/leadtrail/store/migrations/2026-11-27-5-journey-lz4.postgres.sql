-- A journey's snapshot is large (a visitor with 2,000 buffered events makes ~600 KB of JSON) and
-- PostgreSQL compresses it when it is stored. lz4 does that in about half pglz's time (a third of a
-- promote's database time at that size; bench/) and reads back faster in the dashboard. Only a
-- column attribute: the seed's columns and types are unchanged, and values already stored keep
-- their compression. Servers before 14, or built without lz4, keep pglz.
do $$
begin
  if current_setting('server_version_num')::int >= 140000 then
    begin
      alter table submission_journeys alter column events set compression lz4;
      alter table submission_journeys alter column client_events set compression lz4;
    exception when others then
      raise notice 'leadtrail: lz4 compression not available (%), journeys stay pglz', sqlerrm;
    end;
  end if;
end
$$;
