-- 0005: app secrets and nonces for signed requests, and template groups.

-- An app's secret, sealed (AES-256-GCM under a key the process holds, bound
-- to the AppKey): verifying a signature needs the secret itself, so it
-- cannot be stored as a hash like a token.
CREATE TABLE app_secrets (
    app_key   TEXT PRIMARY KEY REFERENCES apps (app_key) ON DELETE CASCADE,
    sealed    BLOB NOT NULL,
    issued_at INTEGER NOT NULL
);

-- Nonces of signed requests, remembered until the end of their window
-- (sandbox time); forgotten ones are swept on the app's next use.
CREATE TABLE nonces (
    app_key TEXT NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
    nonce   TEXT NOT NULL,
    until_at INTEGER NOT NULL,
    PRIMARY KEY (app_key, nonce)
);

-- A template group: language -> template name, as a JSON object.
CREATE TABLE template_groups (
    account    TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    waba_id    TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    templates  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, waba_id, group_id)
);
