-- The country and theme two activities share ("NG prevention"; the smallest code of each where they
-- share several, empty where none): the overlap view groups, counts and pages pairs by it from an
-- index instead of reading every pair's activities (the index also gives a group's pairs in the report's
-- order, strongest first, without a sort). Written with the pair (record, edit, rebuild).
ALTER TABLE activity_pairs ADD COLUMN overlap_group TEXT NOT NULL DEFAULT '';
UPDATE activity_pairs SET overlap_group =
    COALESCE((SELECT MIN(x.country) FROM activity_countries x
              JOIN activity_countries y ON y.country = x.country
              WHERE x.activity_id = activity_pairs.a_id AND y.activity_id = activity_pairs.b_id), '')
    || ' ' ||
    COALESCE((SELECT MIN(x.theme) FROM activity_themes x
              JOIN activity_themes y ON y.theme = x.theme
              WHERE x.activity_id = activity_pairs.a_id AND y.activity_id = activity_pairs.b_id), '');
CREATE INDEX activity_pairs_group ON activity_pairs (level, overlap_group, score DESC, a_id, b_id);
