DROP INDEX activities_list;
CREATE INDEX activities_list ON activities (start_date, id, end_date, agency_id) WHERE archived_at IS NULL;
DROP TRIGGER activities_title_delete;
DROP TRIGGER activities_title_update;
DROP TRIGGER activities_title_insert;
DROP TABLE activity_titles;
ALTER TABLE activities DROP COLUMN title_terms;
