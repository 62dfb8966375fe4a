-- The owner's (or an integration's) outcome for one journey; the value's currency is the one set now.
update submission_journeys set status = :status, value = :value, currency = :currency where id = :id
