DROP INDEX activity_pairs_group;
ALTER TABLE activity_pairs DROP COLUMN overlap_group;
