-- 0005: each account's control token, kept as its SHA-256 only. An account
-- has at most one; rotating it replaces the row, so the old token stops
-- working at once. Deleting the account deletes its token.
CREATE TABLE account_tokens (
    account TEXT PRIMARY KEY REFERENCES accounts (name) ON DELETE CASCADE,
    hash    BYTEA NOT NULL UNIQUE
);
