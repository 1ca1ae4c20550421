DROP INDEX activity_pairs_b_agency;
DROP INDEX activity_pairs_a_agency;
ALTER TABLE activity_pairs DROP COLUMN b_agency;
ALTER TABLE activity_pairs DROP COLUMN a_agency;
