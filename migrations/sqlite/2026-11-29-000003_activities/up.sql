-- The deduplicated activity log (paragraph 7).
CREATE TABLE activities (
    id TEXT PRIMARY KEY NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON arrays, read back as written; side tables below serve the filters.
    countries TEXT NOT NULL,
    themes TEXT NOT NULL,
    sdg_targets TEXT NOT NULL,
    target_groups TEXT NOT NULL,
    partners TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'ongoing', 'completed', 'cancelled')),
    budget_usd BIGINT,
    -- Normalised title, countries and dates: one agency cannot record the same activity twice.
    same_key TEXT NOT NULL,
    -- The duplicate engine's features (JSON), computed once when the activity is written.
    features TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX activities_same_key ON activities (agency_id, same_key) WHERE archived_at IS NULL;
CREATE INDEX activities_agency ON activities (agency_id, start_date);
CREATE INDEX activities_start ON activities (start_date, end_date);
CREATE INDEX activities_created ON activities (created_at);
-- The duplicate check looks again, inside its write, at what changed while it scored.
CREATE INDEX activities_updated ON activities (updated_at);

-- With the activity's agency and period, so that the duplicate check's country block is one
-- index range per country, never a visit of every activity of the country.
CREATE TABLE activity_countries (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    country TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    PRIMARY KEY (country, activity_id)
);
CREATE INDEX activity_countries_period ON activity_countries (country, start_date);
CREATE TABLE activity_themes (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    theme TEXT NOT NULL,
    PRIMARY KEY (theme, activity_id)
);
CREATE TABLE activity_sdgs (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    target TEXT NOT NULL,
    PRIMARY KEY (target, activity_id)
);
-- Words of title, description, partners and target groups, for `q` (prefix ranges on the key).
CREATE TABLE activity_terms (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    term TEXT NOT NULL,
    PRIMARY KEY (term, activity_id)
);
-- LSH band keys of the MinHash signature: activities that share a key are duplicate candidates.
CREATE TABLE activity_bands (
    band_key BIGINT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    PRIMARY KEY (band_key, activity_id)
);
CREATE INDEX activity_countries_a ON activity_countries (activity_id);
CREATE INDEX activity_themes_a ON activity_themes (activity_id);
CREATE INDEX activity_sdgs_a ON activity_sdgs (activity_id);
CREATE INDEX activity_terms_a ON activity_terms (activity_id);
CREATE INDEX activity_bands_a ON activity_bands (activity_id);

-- Scored pairs of activities of different agencies, kept current as activities change (a_id < b_id).
CREATE TABLE activity_pairs (
    a_id TEXT NOT NULL REFERENCES activities (id),
    b_id TEXT NOT NULL REFERENCES activities (id),
    score DOUBLE PRECISION NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('duplicate', 'possible', 'overlap')),
    reasons TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (a_id, b_id)
);
CREATE INDEX activity_pairs_b ON activity_pairs (b_id);
CREATE INDEX activity_pairs_level ON activity_pairs (level, score);

-- People's verdicts on pairs; they outlive the pairs (a rebuild recomputes pairs, never reviews).
CREATE TABLE pair_reviews (
    a_id TEXT NOT NULL REFERENCES activities (id),
    b_id TEXT NOT NULL REFERENCES activities (id),
    decision TEXT NOT NULL CHECK (decision IN ('duplicate', 'not_duplicate', 'coordinated')),
    note TEXT,
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (a_id, b_id)
);

-- Idempotency-Key replays of POST /api/v1/activities, per user, kept at least 24 hours.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
