select count(*) as n from cp_owners
