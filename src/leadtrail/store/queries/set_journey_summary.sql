-- The list summary of a journey, written in the promote's transaction right after its snapshot,
-- with a new journey's spam score and reasons (at SPAM_THRESHOLD it is filed as spam; a refreshed
-- one keeps its status and score: :score is null then).
update submission_journeys
set first_channel = :first_channel, first_source = :first_source, landing_page = :landing_page,
    visits = :visits, page_views = :page_views, time_to_enquiry_ms = :time_to_enquiry_ms,
    spam_score = coalesce(:score, spam_score), spam_reasons = coalesce(:reasons, spam_reasons),
    status = case when :spam then 'spam' else status end
where id = :id
