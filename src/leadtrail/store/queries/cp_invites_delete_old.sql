-- Invites past their expiry by a month: used, withdrawn or never opened, nothing left to show.
delete from cp_invites where expires_at < :before
