-- 0005: app secrets and nonces for signed requests, and template groups.

-- An app's secret, sealed (AES-256-GCM under a key the process holds, bound
-- to the AppKey): verifying a signature needs the secret itself, so it
-- cannot be stored as a hash like a token.
CREATE TABLE app_secrets (
    app_key   TEXT PRIMARY KEY REFERENCES apps (app_key) ON DELETE CASCADE,
    sealed    BYTEA NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL
);

-- Nonces of signed requests, remembered until the end of their window
-- (sandbox time); forgotten ones are swept on the app's next use.
CREATE TABLE nonces (
    app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    nonce   TEXT NOT NULL,
    until_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (app_key, nonce)
);

-- A template group: language -> template name.
CREATE TABLE template_groups (
    account    TEXT COLLATE "C" NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    waba_id    TEXT NOT NULL COLLATE "C",
    group_id   TEXT NOT NULL COLLATE "C",
    templates  JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, waba_id, group_id)
);
