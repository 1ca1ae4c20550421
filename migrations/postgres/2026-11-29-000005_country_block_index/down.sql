CREATE INDEX activity_countries_period ON activity_countries (country, start_date);
DROP INDEX activity_countries_block;
