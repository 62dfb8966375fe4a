delete from cp_sessions where expires_at <= :now or seen_at <= :idle_since
