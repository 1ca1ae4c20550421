CREATE TABLE activity_terms (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    term TEXT NOT NULL,
    PRIMARY KEY (term, activity_id)
);
CREATE INDEX activity_terms_a ON activity_terms (activity_id);
-- Terms are letters and digits only, so they split into a JSON array safely.
INSERT OR IGNORE INTO activity_terms (activity_id, term)
SELECT a.id, j.value
FROM activities a, json_each('["' || replace(a.search_terms, ' ', '","') || '"]') j
WHERE a.search_terms <> '';
DROP TRIGGER activities_text_delete;
DROP TRIGGER activities_text_update;
DROP TRIGGER activities_text_insert;
DROP TRIGGER activities_doc;
DROP TABLE activity_text;
DROP INDEX activities_doc;
ALTER TABLE activities DROP COLUMN doc;
ALTER TABLE activities DROP COLUMN search_terms;
