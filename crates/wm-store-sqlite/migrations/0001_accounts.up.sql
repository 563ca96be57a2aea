-- Users and API keys. Timestamps are unix microseconds (UTC); ids are UUID blobs.
CREATE TABLE users (
    id           BLOB    PRIMARY KEY NOT NULL,
    email        TEXT    NOT NULL UNIQUE,
    role         TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    plan         TEXT    NOT NULL,
    suspended    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_seen_at INTEGER
);

CREATE TABLE api_keys (
    id           BLOB    PRIMARY KEY NOT NULL,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);

CREATE INDEX api_keys_user_created ON api_keys (user_id, created_at);
