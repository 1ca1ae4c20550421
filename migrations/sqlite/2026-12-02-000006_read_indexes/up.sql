-- Indexes the read paths walk without touching an activity's row (on SQLite, a row's later columns
-- are read through the overflow pages of its features, most of a report's time at 100,000).
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
CREATE TABLE activity_themes_new (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    theme TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    PRIMARY KEY (theme, activity_id)
);
INSERT INTO activity_themes_new (activity_id, theme, start_date, end_date)
SELECT t.activity_id, t.theme, a.start_date, a.end_date
FROM activity_themes t JOIN activities a ON a.id = t.activity_id
WHERE a.archived_at IS NULL;
DROP TABLE activity_themes;
ALTER TABLE activity_themes_new RENAME TO activity_themes;
CREATE INDEX activity_themes_a ON activity_themes (activity_id);
CREATE INDEX activity_themes_period ON activity_themes (theme, start_date, end_date);

CREATE TABLE activity_sdgs_new (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    target TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    PRIMARY KEY (target, activity_id)
);
INSERT INTO activity_sdgs_new (activity_id, target, start_date, end_date)
SELECT s.activity_id, s.target, a.start_date, a.end_date
FROM activity_sdgs s JOIN activities a ON a.id = s.activity_id
WHERE a.archived_at IS NULL;
DROP TABLE activity_sdgs;
ALTER TABLE activity_sdgs_new RENAME TO activity_sdgs;
CREATE INDEX activity_sdgs_a ON activity_sdgs (activity_id);
CREATE INDEX activity_sdgs_period ON activity_sdgs (target, start_date, end_date);
