-- PostgreSQL only (column compression); nothing to do on SQLite.
select 1;
