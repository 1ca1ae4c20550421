-- Full-text search of activities through FTS5 instead of a table of terms: the terms table held
-- some forty rows an activity in three b-trees (two thirds of the database at 100,000 activities)
-- and a common prefix such as "train" expanded to a range of tens of thousands of rows.
--
-- `search_terms` holds the activity's folded words (icat_common::search::terms, written by the
-- application), the FTS5 index is an external-content index over it. Its rows are keyed by `doc`,
-- an integer of our own: the implicit rowid of a table without an INTEGER PRIMARY KEY may change
-- on VACUUM (and `icat backup` is VACUUM INTO), which would point the index at other activities.
ALTER TABLE activities ADD COLUMN search_terms TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN doc INTEGER;
UPDATE activities SET
    search_terms = coalesce(
        (SELECT group_concat(term, ' ') FROM activity_terms WHERE activity_id = activities.id), ''),
    doc = rowid;
CREATE UNIQUE INDEX activities_doc ON activities (doc);
CREATE VIRTUAL TABLE activity_text USING fts5 (
    search_terms,
    content = 'activities',
    content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO activity_text (activity_text) VALUES ('rebuild');

-- The index follows the rows by triggers, so every path that writes activities keeps it right.
-- A new row gets the next doc number (an AFTER trigger cannot change NEW, hence the UPDATE; the
-- writer holds SQLite's one write lock, so max + 1 is never taken twice).
CREATE TRIGGER activities_doc AFTER INSERT ON activities WHEN new.doc IS NULL BEGIN
    UPDATE activities SET doc = (SELECT coalesce(max(doc), 0) + 1 FROM activities)
    WHERE rowid = new.rowid;
END;
CREATE TRIGGER activities_text_insert AFTER UPDATE OF doc ON activities
WHEN old.doc IS NULL AND new.doc IS NOT NULL BEGIN
    INSERT INTO activity_text (rowid, search_terms) VALUES (new.doc, new.search_terms);
END;
CREATE TRIGGER activities_text_update AFTER UPDATE OF search_terms ON activities
WHEN old.doc IS NOT NULL BEGIN
    INSERT INTO activity_text (activity_text, rowid, search_terms)
    VALUES ('delete', old.doc, old.search_terms);
    INSERT INTO activity_text (rowid, search_terms) VALUES (new.doc, new.search_terms);
END;
CREATE TRIGGER activities_text_delete AFTER DELETE ON activities WHEN old.doc IS NOT NULL BEGIN
    INSERT INTO activity_text (activity_text, rowid, search_terms)
    VALUES ('delete', old.doc, old.search_terms);
END;

DROP TABLE activity_terms;
