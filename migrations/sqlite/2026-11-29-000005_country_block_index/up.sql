-- The country block of a duplicate check reads the nearest starts in a country and keeps those
-- still running and of another agency: with every column it reads in the index, it reads no
-- table row (the old index made it look up each row it passed, most of a check's time).
CREATE INDEX activity_countries_block ON activity_countries (country, start_date, end_date, agency_id, activity_id);
DROP INDEX activity_countries_period;
