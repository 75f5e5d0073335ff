-- 0002: one index fewer to write per event.
--
-- Every event insert wrote five B-trees (the table, its id, and three
-- indexes); the log is written far more often than it is read. Listings are
-- always of one account (the control API names it), which events_by_account
-- serves; an app filter is checked on those rows instead of through an index
-- of its own.
DROP INDEX IF EXISTS events_by_app;
