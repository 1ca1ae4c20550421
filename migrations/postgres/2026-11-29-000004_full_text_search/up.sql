-- Full-text search of activities through a GIN index instead of a table of terms (some forty rows
-- an activity, and a common prefix such as "train" expanded to tens of thousands of them).
-- `search_terms` holds the activity's folded words (icat_common::search::terms, written by the
-- application); the 'simple' configuration only splits them, so both backends find the same words.
ALTER TABLE activities ADD COLUMN search_terms TEXT NOT NULL DEFAULT '';
UPDATE activities a SET search_terms = t.terms
FROM (SELECT activity_id, string_agg(term, ' ') AS terms FROM activity_terms GROUP BY activity_id) t
WHERE t.activity_id = a.id;
CREATE INDEX activities_search ON activities USING gin (to_tsvector('simple', search_terms));
DROP TABLE activity_terms;
