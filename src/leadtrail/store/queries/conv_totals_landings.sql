-- Visits by landing page over local days :first..:last.
select page_path, sum(visits) as visits from totals_landings
where day >= :first and day <= :last group by page_path
