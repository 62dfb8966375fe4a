-- The enquirer removed their browsing history: the enquiry (address, form, consent, time) stays.
update submission_journeys
set events = :empty, client_events = :empty, touches = :empty, history_removed_at = :now,
    first_channel = null, first_source = null, landing_page = null, visits = 0, page_views = 0,
    time_to_enquiry_ms = null
where id = :id
