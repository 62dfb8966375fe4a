select count(*) from submission_journeys
