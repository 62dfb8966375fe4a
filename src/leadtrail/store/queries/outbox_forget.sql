-- Rows finished before :before go (a digest's period is long past by then: none is added again).
delete from email_outbox where finished_at is not null and finished_at < :before
