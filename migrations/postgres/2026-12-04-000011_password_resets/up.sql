-- Forgotten passwords: a single-use link valid 30 minutes, e-mailed to the account's address (or
-- handed over by an admin). Only the token's SHA-256 digest is stored.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    -- The admin who made the link, NULL when the user asked by e-mail.
    created_by TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
