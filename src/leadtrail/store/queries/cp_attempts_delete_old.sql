delete from cp_login_attempts where created_at < :before
