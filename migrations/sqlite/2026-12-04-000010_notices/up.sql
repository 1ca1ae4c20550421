-- Coordination notices (paragraphs 7-9): what a user's inbox holds, the e-mail waiting to be
-- sent (a transactional outbox: written in the transaction of the change that caused it, sent by
-- a background worker), each user's choices, and the last level each pair was notified at.

-- One notice in one user's inbox. `params` holds what the wording needs (titles, agencies,
-- decision) as JSON, so that each interface words it in its own language.
CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('match', 'review', 'reminder')),
    level TEXT,
    activity_id TEXT,
    other_id TEXT,
    params TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notices_inbox ON notices (user_id, created_at DESC, id DESC);
CREATE INDEX notices_unread ON notices (user_id) WHERE read_at IS NULL;

-- The strongest level each pair has been notified at: a pair notifies once, again only when an
-- edit raises its level.
CREATE TABLE pair_notices (
    a_id TEXT NOT NULL,
    b_id TEXT NOT NULL,
    level TEXT NOT NULL,
    notified_at TIMESTAMP NOT NULL,
    PRIMARY KEY (a_id, b_id)
);

-- A user's choices; a user without a row gets immediate e-mail, no overlaps, English.
CREATE TABLE notice_settings (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    email TEXT NOT NULL CHECK (email IN ('immediate', 'daily', 'none')),
    with_overlaps BOOLEAN NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'fr', 'es')),
    last_digest_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- One e-mail to one address. `queued` until sent or given up (`failed`, with the server's answer);
-- a worker claims a message until `claimed_until`, so that of several servers exactly one sends it.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    notice_id TEXT,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at DESC, id DESC);

-- Addresses that asked, by the link in an e-mail, to receive no more.
CREATE TABLE mail_unsubscribes (
    email TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL
);
