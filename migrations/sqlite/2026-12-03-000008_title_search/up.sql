-- Search ranks the activities whose title holds every word of the query first (issue 18). The
-- title's folded words (icat_common::search::terms of the title, written by the application; NULL
-- until `icat_activities::fill_title_terms` has filled a row written before this migration) get an
-- FTS5 index of their own, so that this first rank is read from short doclists without sorting
-- every match. Every activity with a `doc` has a row in it (an empty one while the words are NULL),
-- so that the triggers' delete and insert always pair up.
ALTER TABLE activities ADD COLUMN title_terms TEXT;
CREATE VIRTUAL TABLE activity_titles USING fts5 (
    title_terms,
    content = 'activities',
    content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO activity_titles (activity_titles) VALUES ('rebuild');

CREATE TRIGGER activities_title_insert AFTER UPDATE OF doc ON activities
WHEN old.doc IS NULL AND new.doc IS NOT NULL BEGIN
    INSERT INTO activity_titles (rowid, title_terms) VALUES (new.doc, new.title_terms);
END;
CREATE TRIGGER activities_title_update AFTER UPDATE OF title_terms ON activities
WHEN old.doc IS NOT NULL BEGIN
    INSERT INTO activity_titles (activity_titles, rowid, title_terms)
    VALUES ('delete', old.doc, old.title_terms);
    INSERT INTO activity_titles (rowid, title_terms) VALUES (new.doc, new.title_terms);
END;
CREATE TRIGGER activities_title_delete AFTER DELETE ON activities WHEN old.doc IS NOT NULL BEGIN
    INSERT INTO activity_titles (activity_titles, rowid, title_terms)
    VALUES ('delete', old.doc, old.title_terms);
END;

-- A search whose rank is dense (a common word: "training" begins a word of 10,525 titles in
-- 100,000) walks the list's date index and tests each entry's `doc` against the rank's matches,
-- stopping after a page, instead of looking up and sorting them all: the index carries `doc` so
-- that the walk never reads an activity's row (`doc`, added by ALTER TABLE, sits after the
-- features, in the row's overflow pages).
DROP INDEX activities_list;
CREATE INDEX activities_list ON activities (start_date, id, end_date, agency_id, doc) WHERE archived_at IS NULL;
