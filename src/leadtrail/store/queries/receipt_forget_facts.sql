update journey_facts
set first_channel = null, first_source = null, first_landing = null,
    last_channel = null, last_source = null, last_landing = null, pages = :empty, sample = null
where journey_id = :id
