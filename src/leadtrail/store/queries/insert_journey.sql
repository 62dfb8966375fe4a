insert into submission_journeys
  (email, anon_id, events, client_events, touches, created_at, updated_at, form, consent,
   first_channel, first_source, landing_page, visits, page_views, time_to_enquiry_ms)
values
  (:email, :anon_id, :events, :client_events, :touches, :created_at, :created_at, :form, :consent,
   :first_channel, :first_source, :landing_page, :visits, :page_views, :time_to_enquiry_ms)
returning id
