-- An agency's live activities in list order, with their ids: PostgreSQL reads a list filtered by
-- agency (with a theme and an SDG target too) from this range, index only, where it scanned the
-- whole date index `activities_list` and tested each entry's agency (27 ms for a count of 268
-- matches at 100,000 activities; 9 ms with this index, its page 5 ms). SQLite walks the date index
-- on purpose for dense lists (`query.rs`) and is left as it is.
CREATE INDEX activities_of_agency ON activities (agency_id, start_date, id) WHERE archived_at IS NULL;

-- The overlap view counts its pairs by group (281,512 overlaps at 100,000 activities): PostgreSQL
-- read the whole table in a parallel scan for it (90 ms), the wide `activity_pairs_group` being
-- costed above the table; this narrow index answers it alone (28-48 ms). SQLite reads
-- `activity_pairs_group` already.
CREATE INDEX activity_pairs_level_group ON activity_pairs (level, overlap_group);
