-- 0002: one index fewer to write per event (as in the SQLite store).
--
-- Listings are always of one account (the control API names it), which
-- events_by_account serves; an app filter is checked on those rows instead
-- of through an index of its own.
DROP INDEX IF EXISTS events_by_app;
