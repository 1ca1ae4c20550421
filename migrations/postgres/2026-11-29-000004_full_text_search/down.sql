CREATE TABLE activity_terms (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    term TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (term, activity_id)
);
CREATE INDEX activity_terms_a ON activity_terms (activity_id);
INSERT INTO activity_terms (activity_id, term)
SELECT DISTINCT id, unnest(string_to_array(search_terms, ' ')) FROM activities
WHERE search_terms <> '';
DROP INDEX activities_search;
ALTER TABLE activities DROP COLUMN search_terms;
