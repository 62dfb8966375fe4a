select count(*) as n from cp_owners where role = 'owner'
