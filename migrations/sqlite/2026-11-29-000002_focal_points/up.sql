-- The focal-point directory (paragraph 9): designations with their history.
CREATE TABLE focal_points (
    id TEXT PRIMARY KEY NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    role TEXT NOT NULL CHECK (role IN ('primary', 'alternate')),
    name TEXT NOT NULL,
    title TEXT,
    email TEXT NOT NULL,
    phone TEXT,
    -- JSON arrays, read back as they were written; the side tables below serve the filters.
    languages TEXT NOT NULL,
    countries TEXT NOT NULL,
    themes TEXT NOT NULL,
    valid_from DATE NOT NULL,
    -- Set when the designation ends; an ended designation is history and never changes again.
    valid_until DATE,
    designated_by TEXT REFERENCES users (id),
    last_confirmed_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- At most one current primary per agency, enforced by the database.
CREATE UNIQUE INDEX focal_points_one_current_primary ON focal_points (agency_id)
    WHERE role = 'primary' AND valid_until IS NULL;
CREATE INDEX focal_points_agency ON focal_points (agency_id, valid_until);
CREATE INDEX focal_points_current ON focal_points (valid_until, last_confirmed_at);

CREATE TABLE focal_point_countries (
    focal_point_id TEXT NOT NULL REFERENCES focal_points (id),
    country TEXT NOT NULL,
    PRIMARY KEY (country, focal_point_id)
);
CREATE TABLE focal_point_themes (
    focal_point_id TEXT NOT NULL REFERENCES focal_points (id),
    theme TEXT NOT NULL,
    PRIMARY KEY (theme, focal_point_id)
);
-- Words of name, title and e-mail, for search as you type (prefix ranges on the primary key).
CREATE TABLE focal_point_terms (
    focal_point_id TEXT NOT NULL REFERENCES focal_points (id),
    term TEXT NOT NULL,
    PRIMARY KEY (term, focal_point_id)
);
CREATE INDEX focal_point_countries_fp ON focal_point_countries (focal_point_id);
CREATE INDEX focal_point_themes_fp ON focal_point_themes (focal_point_id);
CREATE INDEX focal_point_terms_fp ON focal_point_terms (focal_point_id);
