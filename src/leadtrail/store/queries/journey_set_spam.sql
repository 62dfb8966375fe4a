-- A new journey's spam score and reasons; at the threshold it is filed as spam.
update submission_journeys
set spam_score = :score, spam_reasons = :reasons, status = case when :spam then 'spam' else status end
where id = :id
