-- Indexes the read paths walk without touching an activity's row.
--
-- The activity list and its export: newest start first, then newest recorded (ids are time-ordered),
-- walked backwards; a keyset page (`after=`) starts where the last one ended. With the end date and
-- agency, the summary counts activities by period and agency from it alone.
CREATE INDEX activities_list ON activities (start_date, id, end_date, agency_id) WHERE archived_at IS NULL;
-- Participation (each agency's activities recorded lately, and its last) and the summary's counts by
-- agency over a period.
CREATE INDEX activities_recorded ON activities (agency_id, created_at, start_date, end_date) WHERE archived_at IS NULL;

-- Themes and SDG targets carry their activity's period, like countries, and leave with it when it
-- is archived: the summary counts them by period from their own index.
ALTER TABLE activity_themes ADD COLUMN start_date DATE, ADD COLUMN end_date DATE;
UPDATE activity_themes t SET start_date = a.start_date, end_date = a.end_date
FROM activities a WHERE a.id = t.activity_id;
DELETE FROM activity_themes t USING activities a
WHERE a.id = t.activity_id AND a.archived_at IS NOT NULL;
ALTER TABLE activity_themes ALTER COLUMN start_date SET NOT NULL, ALTER COLUMN end_date SET NOT NULL;
CREATE INDEX activity_themes_period ON activity_themes (theme, start_date, end_date);

ALTER TABLE activity_sdgs ADD COLUMN start_date DATE, ADD COLUMN end_date DATE;
UPDATE activity_sdgs s SET start_date = a.start_date, end_date = a.end_date
FROM activities a WHERE a.id = s.activity_id;
DELETE FROM activity_sdgs s USING activities a
WHERE a.id = s.activity_id AND a.archived_at IS NOT NULL;
ALTER TABLE activity_sdgs ALTER COLUMN start_date SET NOT NULL, ALTER COLUMN end_date SET NOT NULL;
CREATE INDEX activity_sdgs_period ON activity_sdgs (target, start_date, end_date);
