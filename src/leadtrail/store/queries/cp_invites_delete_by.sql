-- A removed member's invites go with them (the foreign key cascades too).
delete from cp_invites where invited_by = :invited_by
