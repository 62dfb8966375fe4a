-- The digest's headline: enquiries created in [:since, :until) that are not spam, how many of
-- them are won and their summed value, and how many were filed as spam (left out of the rest).
select coalesce(sum(case when status <> 'spam' then 1 else 0 end), 0) as enquiries,
       coalesce(sum(case when status = 'won' then 1 else 0 end), 0) as won,
       sum(case when status = 'won' then value end) as value,
       coalesce(sum(case when status = 'spam' then 1 else 0 end), 0) as spam
from submission_journeys
where created_at >= :since and created_at < :until
