-- Everyone with a dashboard account: owners first, then in the order they joined.
select id, email, role, created_at, last_login_at from cp_owners
order by case when role = 'owner' then 0 else 1 end, created_at, id
