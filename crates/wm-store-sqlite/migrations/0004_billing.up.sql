-- Billing: the webhook inbox, customer links, subscriptions, key claim tokens, the email outbox.
-- Timestamps are unix microseconds (UTC); ids are UUID blobs.
CREATE TABLE billing_events (
    id           BLOB    PRIMARY KEY NOT NULL,
    provider     TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    payload      TEXT    NOT NULL,
    normalized   TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'received'
                 CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    processed_at INTEGER,
    UNIQUE (provider, event_id)
);
CREATE INDEX billing_events_status ON billing_events (status, received_at);
CREATE INDEX billing_events_processed ON billing_events (processed_at);

CREATE TABLE billing_customers (
    provider    TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, customer_id)
);
CREATE INDEX billing_customers_user ON billing_customers (user_id);

CREATE TABLE subscriptions (
    id                       BLOB    PRIMARY KEY NOT NULL,
    provider                 TEXT    NOT NULL,
    provider_subscription_id TEXT    NOT NULL,
    provider_customer_id     TEXT,
    provider_membership_id   TEXT,
    user_id                  BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan                     TEXT    NOT NULL,
    status                   TEXT    NOT NULL
                             CHECK (status IN ('trialing', 'active', 'past_due', 'canceled', 'expired')),
    period_end               INTEGER,
    cancel_at_period_end     INTEGER NOT NULL DEFAULT 0,
    grace_until              INTEGER,
    access_ends_at           INTEGER,
    ended_at                 INTEGER,
    last_event_at            INTEGER NOT NULL,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    UNIQUE (provider, provider_subscription_id)
);
CREATE INDEX subscriptions_user ON subscriptions (user_id);
CREATE INDEX subscriptions_due ON subscriptions (access_ends_at) WHERE ended_at IS NULL;

CREATE TABLE claim_tokens (
    token_hash TEXT    PRIMARY KEY NOT NULL,
    key_id     BLOB    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX claim_tokens_key ON claim_tokens (key_id);

CREATE TABLE email_outbox (
    id              BLOB    PRIMARY KEY NOT NULL,
    to_address      TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
