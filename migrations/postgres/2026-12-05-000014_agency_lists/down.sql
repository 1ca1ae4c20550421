DROP INDEX activity_pairs_level_group;
DROP INDEX activities_of_agency;
