update submission_journeys
set events = :events, client_events = :client_events, touches = :touches, updated_at = :updated_at,
    form = coalesce(:form, form), consent = coalesce(:consent, consent),
    first_channel = :first_channel, first_source = :first_source, landing_page = :landing_page,
    visits = :visits, page_views = :page_views, time_to_enquiry_ms = :time_to_enquiry_ms
where id = :id
