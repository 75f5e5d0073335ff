-- 0001: the sandbox's state, one table per state type.
--
-- Encodings (see codec.go): times are INTEGER Unix microseconds in UTC,
-- durations INTEGER nanoseconds, string lists and header maps JSON text.
-- A nullable column is NULL exactly when the Go value is nil.
--
-- seq columns (INTEGER PRIMARY KEY, the rowid) record creation order, which
-- the Store contract orders by (ListApps, ListTokens, ListEvents, ClaimDue's
-- tie-break); times cannot, since sandbox clocks move back and forth.
--
-- Foreign keys cascade so that DeleteAccount and DeleteApp are one DELETE
-- each; every child column that cascades is indexed, or the cascade would
-- scan the child table.

CREATE TABLE accounts (
    name            TEXT PRIMARY KEY,
    label           TEXT NOT NULL,
    default_app     TEXT NOT NULL DEFAULT '',  -- '' when none; cleared by DeleteApp
    clock_offset_ns INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE apps (
    seq        INTEGER PRIMARY KEY,
    app_key    TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX apps_by_account ON apps (account, seq);

CREATE TABLE tokens (
    seq        INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER,
    ended_at   INTEGER
);
CREATE INDEX tokens_by_app ON tokens (app_key, seq);
-- At most one current token per app, enforced; AuthContext's join and
-- IssueToken's supersede step look the current token up through it.
CREATE UNIQUE INDEX tokens_current ON tokens (app_key) WHERE state = 'current';

CREATE TABLE webhooks (
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    product    TEXT NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT,
    method     TEXT NOT NULL,
    username   TEXT,
    auth       TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_key, product)
);

CREATE TABLE bindings (
    account    TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, kind, value)
);
CREATE INDEX bindings_by_app ON bindings (app_key, kind, value);

-- Messages, like events, outlive their app: app_key has no foreign key.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    account      TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    app_key      TEXT NOT NULL,
    product      TEXT NOT NULL,
    message_type TEXT NOT NULL,
    waba_id      TEXT NOT NULL,
    send_number  TEXT NOT NULL,
    recipients   TEXT,
    wamids       TEXT,
    uid          TEXT NOT NULL,
    request      BLOB,
    created_at   INTEGER NOT NULL
);
CREATE INDEX messages_by_account ON messages (account);

-- The event log and the outbox in one table. target_url IS NULL means the
-- event has no target (it was dropped); the other target_ columns follow it.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    account         TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    product         TEXT NOT NULL,
    app_key         TEXT NOT NULL,
    route           TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    payload         BLOB,
    target_url      TEXT,
    target_method   TEXT,
    target_username TEXT,
    target_auth     TEXT,
    attempts        INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL,
    lease_until     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- The outbox: ClaimDue and NextDue walk this in (next_attempt_at, seq) order,
-- one range scan over pending events only; delivered, failed and dropped
-- events, the bulk of the log, are not in it at all.
CREATE INDEX events_due ON events (next_attempt_at, seq) WHERE status = 'pending';
-- Leased events are the few in flight; NextDue reads their lease ends here
-- instead of scanning every pending event.
CREATE INDEX events_leased ON events (lease_until) WHERE lease_owner <> '';
CREATE INDEX events_by_account ON events (account, seq);
CREATE INDEX events_by_app ON events (app_key, seq);

CREATE TABLE attempts (
    seq              INTEGER PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    n                INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    latency_ns       INTEGER NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    request_headers  TEXT,
    request_body     BLOB,
    response_status  INTEGER NOT NULL,
    response_headers TEXT,
    response_body    BLOB,
    error            TEXT NOT NULL,
    outcome          TEXT NOT NULL
);
CREATE INDEX attempts_by_event ON attempts (event_id, seq);
