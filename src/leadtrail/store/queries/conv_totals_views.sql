-- Page views by page over local days :first..:last.
select page_path, sum(views) as views from totals_views
where day >= :first and day <= :last group by page_path
