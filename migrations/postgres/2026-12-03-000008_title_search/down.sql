DROP INDEX activities_title_search;
ALTER TABLE activities DROP COLUMN title_terms;
