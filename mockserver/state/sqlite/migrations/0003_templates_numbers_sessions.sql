-- 0003: WhatsApp templates, the sending numbers of WABAs, the 24-hour
-- customer service window, and per-webhook retry and chaos settings.

-- A template is PENDING until review_at (the account's sandbox time), then
-- status. Templates are per account, WABA, name and language.
CREATE TABLE templates (
    seq           INTEGER PRIMARY KEY,
    account       TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
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
    review_at     INTEGER NOT NULL,
    request       BLOB,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account, waba_id, name, language)
);

-- A number belongs to at most one WABA of an account.
CREATE TABLE waba_numbers (
    account    TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    number     TEXT NOT NULL,
    waba_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, number)
);
CREATE INDEX waba_numbers_by_waba ON waba_numbers (account, waba_id, number);

-- When a user last wrote to a business number (sandbox time).
CREATE TABLE sessions (
    account         TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    business        TEXT NOT NULL,
    user_number     TEXT NOT NULL,
    last_inbound_at INTEGER NOT NULL,
    PRIMARY KEY (account, business, user_number)
);

-- JSON text, NULL when not set (see codec.go).
ALTER TABLE webhooks ADD COLUMN retry TEXT;
ALTER TABLE webhooks ADD COLUMN chaos TEXT;
ALTER TABLE events ADD COLUMN target_retry TEXT;
ALTER TABLE events ADD COLUMN chaos TEXT;
