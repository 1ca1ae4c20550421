DROP INDEX activities_list;
DROP INDEX activities_recorded;
DROP INDEX activity_themes_period;
DROP INDEX activity_sdgs_period;
ALTER TABLE activity_themes DROP COLUMN start_date, DROP COLUMN end_date;
ALTER TABLE activity_sdgs DROP COLUMN start_date, DROP COLUMN end_date;
-- Archived activities kept their themes and targets before.
INSERT INTO activity_themes (activity_id, theme)
SELECT a.id, j FROM activities a, jsonb_array_elements_text(a.themes::jsonb) j WHERE a.archived_at IS NOT NULL;
INSERT INTO activity_sdgs (activity_id, target)
SELECT a.id, j FROM activities a, jsonb_array_elements_text(a.sdg_targets::jsonb) j WHERE a.archived_at IS NOT NULL;
