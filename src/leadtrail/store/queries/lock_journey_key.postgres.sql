-- Serialises promotes of one visitor and address across processes until the transaction ends.
select pg_advisory_xact_lock(hashtextextended(:key, 0))
