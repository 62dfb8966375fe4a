-- SQLite already serialises writers (BEGIN IMMEDIATE); nothing more to lock.
select :key
