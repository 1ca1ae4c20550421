DROP INDEX activity_countries_map;
ALTER TABLE activity_countries DROP COLUMN themes;
DROP INDEX activity_pairs_period;
ALTER TABLE activity_pairs DROP COLUMN early_end;
ALTER TABLE activity_pairs DROP COLUMN late_start;
