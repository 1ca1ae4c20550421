-- PostgreSQL gains an index of an agency's live activities in list order (see its migration);
-- SQLite walks the date index for dense lists and finds sparse ones through `activities_agency`,
-- so it needs none. Kept so that both backends count the same migrations.
SELECT 1;
