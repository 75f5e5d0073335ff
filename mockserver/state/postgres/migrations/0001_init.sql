-- 0001: the sandbox's state, one table per state type; the PostgreSQL
-- twin of the SQLite store's migration of the same number and name.
--
-- Encodings: times are TIMESTAMPTZ (microseconds, an instant: the Go side
-- reads them back in UTC), durations BIGINT nanoseconds, string lists and
-- header maps JSONB, bodies and hashes BYTEA. A nullable column is NULL
-- exactly when the Go value is nil.
--
-- seq columns (identity) record creation order, which the Store contract
-- orders by (ListApps, ListTokens, ListEvents, ClaimDue's tie-break); times
-- cannot, since sandbox clocks move back and forth.
--
-- Names whose order the contract promises (accounts, products, binding
-- kinds and values, WABA numbers) are COLLATE "C": byte order, as in the
-- other stores, whatever the database's default collation.
--
-- Foreign keys cascade so that DeleteAccount and DeleteApp are one DELETE
-- each; every child column that cascades is indexed, or the cascade would
-- scan the child table.

CREATE TABLE accounts (
    name            TEXT COLLATE "C" PRIMARY KEY,
    label           TEXT NOT NULL,
    default_app     TEXT NOT NULL DEFAULT '',  -- '' when none; cleared by DeleteApp
    clock_offset_ns BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE apps (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_key    TEXT NOT NULL UNIQUE,
    account    TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX apps_by_account ON apps (account, seq);

CREATE TABLE tokens (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash       BYTEA NOT NULL UNIQUE,
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    ended_at   TIMESTAMPTZ
);
CREATE INDEX tokens_by_app ON tokens (app_key, seq);
-- At most one current token per app, enforced; AuthContext's join and
-- IssueToken's supersede step look the current token up through it.
CREATE UNIQUE INDEX tokens_current ON tokens (app_key) WHERE state = 'current';

CREATE TABLE webhooks (
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    product    TEXT COLLATE "C" NOT NULL,
    url        TEXT NOT NULL,
    events     JSONB,
    method     TEXT NOT NULL,
    username   TEXT,
    auth       TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (app_key, product)
);

CREATE TABLE bindings (
    account    TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    kind       TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    app_key    TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, kind, value)
);
CREATE INDEX bindings_by_app ON bindings (app_key, kind, value);

-- Messages, like events, outlive their app: app_key has no foreign key.
-- seq is the creation order Prune keeps the newest of.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    account      TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    app_key      TEXT NOT NULL,
    product      TEXT NOT NULL,
    message_type TEXT NOT NULL,
    waba_id      TEXT NOT NULL,
    send_number  TEXT NOT NULL,
    recipients   JSONB,
    wamids       JSONB,
    uid          TEXT NOT NULL,
    request      BYTEA,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_by_account ON messages (account);

-- The event log and the outbox in one table. target_url IS NULL means the
-- event has no target (it was dropped); the other target_ columns follow it.
CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    account         TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    product         TEXT NOT NULL,
    app_key         TEXT NOT NULL,
    route           TEXT NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    payload         BYTEA,
    target_url      TEXT,
    target_method   TEXT,
    target_username TEXT,
    target_auth     TEXT,
    attempts        INTEGER NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT NOT NULL,
    lease_until     TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
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
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    n                INTEGER NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    latency_ns       BIGINT NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    request_headers  JSONB,
    request_body     BYTEA,
    response_status  INTEGER NOT NULL,
    response_headers JSONB,
    response_body    BYTEA,
    error            TEXT NOT NULL,
    outcome          TEXT NOT NULL
);
CREATE INDEX attempts_by_event ON attempts (event_id, seq);

-- sandbox_require stops a statement, and with it the transaction, when a
-- check fails: it raises no_data_found (P0002) naming what is missing. The
-- store sends a write's statements in one round trip, which the server
-- runs as one implicit transaction; a failed check must undo all of them.
-- (PostgreSQL only: the SQLite store checks between statements.)
CREATE FUNCTION sandbox_require(ok boolean, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION '% not found', what USING ERRCODE = 'no_data_found';
    END IF;
END
$$;
