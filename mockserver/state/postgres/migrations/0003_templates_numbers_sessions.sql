-- 0003: WhatsApp templates, the sending numbers of WABAs, the 24-hour
-- customer service window, and per-webhook retry and chaos settings.

-- A template is PENDING until review_at (the account's sandbox time), then
-- status. Templates are per account, WABA, name and language; seq is the
-- creation order ListTemplates promises.
CREATE TABLE templates (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    waba_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    category      TEXT NOT NULL,
    template_id   TEXT NOT NULL,
    sid           TEXT NOT NULL,
    app_key       TEXT NOT NULL,
    body_params   INTEGER NOT NULL,
    header_params INTEGER NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    review_at     TIMESTAMPTZ NOT NULL,
    request       BYTEA,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (account, waba_id, name, language)
);

-- A number belongs to at most one WABA of an account.
CREATE TABLE waba_numbers (
    account    TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    number     TEXT COLLATE "C" NOT NULL,
    waba_id    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, number)
);
CREATE INDEX waba_numbers_by_waba ON waba_numbers (account, waba_id, number);

-- When a user last wrote to a business number (sandbox time).
CREATE TABLE sessions (
    account         TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    business        TEXT NOT NULL,
    user_number     TEXT NOT NULL,
    last_inbound_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, business, user_number)
);

-- JSON, NULL when not set.
ALTER TABLE webhooks ADD COLUMN retry JSONB;
ALTER TABLE webhooks ADD COLUMN chaos JSONB;
ALTER TABLE events ADD COLUMN target_retry JSONB;
ALTER TABLE events ADD COLUMN chaos JSONB;
