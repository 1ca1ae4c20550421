-- Each pair keeps the later of its two activities' starts and the earlier of their ends. Both
-- activities run in a period [from, to] exactly when late_start <= to and early_end >= from, so the
-- world map counts a period's pairs by country from one index range instead of probing both
-- activities of every pair (0.96 s at 100,000 activities). Written with the pair (record, edit,
-- import, rebuild); an edit of either activity rewrites its pairs.
ALTER TABLE activity_pairs ADD COLUMN late_start DATE NOT NULL DEFAULT '1970-01-01';
ALTER TABLE activity_pairs ADD COLUMN early_end DATE NOT NULL DEFAULT '1970-01-01';
UPDATE activity_pairs p SET
    late_start = GREATEST(a.start_date, b.start_date),
    early_end = LEAST(a.end_date, b.end_date)
FROM activities a, activities b
WHERE a.id = p.a_id AND b.id = p.b_id;
CREATE INDEX activity_pairs_period ON activity_pairs (early_end, late_start, overlap_group, level, a_agency, b_agency, a_id, b_id);

-- Each country row keeps its activity's themes (the JSON array of `activities.themes`), so that the
-- map counts a period's activities by country, agency and theme in one pass over a covering index
-- of the period (those that end before it are never read), instead of probing the theme rows of
-- every activity in the period (0.19 s at 100,000). Written with the row (record, edit, import).
ALTER TABLE activity_countries ADD COLUMN themes TEXT NOT NULL DEFAULT '[]';
UPDATE activity_countries c SET themes = a.themes FROM activities a WHERE a.id = c.activity_id;
CREATE INDEX activity_countries_map ON activity_countries (end_date, start_date) INCLUDE (country, agency_id, themes, activity_id);
