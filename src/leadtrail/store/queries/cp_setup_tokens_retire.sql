-- Once an owner exists no setup link works any more.
update cp_setup_tokens set used_at = :now where used_at is null
