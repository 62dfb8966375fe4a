-- The list summary of a journey, written in the promote's transaction right after its snapshot.
update submission_journeys
set first_channel = :first_channel, first_source = :first_source, landing_page = :landing_page,
    visits = :visits, page_views = :page_views, time_to_enquiry_ms = :time_to_enquiry_ms
where id = :id
