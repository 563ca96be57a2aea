-- Billing: the webhook inbox, customer links, subscriptions, key claim tokens, the email outbox.
CREATE TABLE billing_events (
    id           UUID        PRIMARY KEY,
    provider     TEXT        NOT NULL,
    event_id     TEXT        NOT NULL,
    event_type   TEXT        NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    payload      TEXT        NOT NULL,
    normalized   TEXT        NOT NULL,
    status       TEXT        NOT NULL DEFAULT 'received'
                 CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
    attempts     INTEGER     NOT NULL DEFAULT 0,
    last_error   TEXT,
    processed_at TIMESTAMPTZ,
    UNIQUE (provider, event_id)
);
CREATE INDEX billing_events_status ON billing_events (status, received_at);
CREATE INDEX billing_events_processed ON billing_events (processed_at);

CREATE TABLE billing_customers (
    provider    TEXT        NOT NULL,
    customer_id TEXT        NOT NULL,
    user_id     UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, customer_id)
);
CREATE INDEX billing_customers_user ON billing_customers (user_id);

CREATE TABLE subscriptions (
    id                       UUID        PRIMARY KEY,
    provider                 TEXT        NOT NULL,
    provider_subscription_id TEXT        NOT NULL,
    provider_customer_id     TEXT,
    provider_membership_id   TEXT,
    user_id                  UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan                     TEXT        NOT NULL,
    status                   TEXT        NOT NULL
                             CHECK (status IN ('trialing', 'active', 'past_due', 'canceled', 'expired')),
    period_end               TIMESTAMPTZ,
    cancel_at_period_end     BOOLEAN     NOT NULL DEFAULT FALSE,
    grace_until              TIMESTAMPTZ,
    access_ends_at           TIMESTAMPTZ,
    ended_at                 TIMESTAMPTZ,
    last_event_at            TIMESTAMPTZ NOT NULL,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, provider_subscription_id)
);
CREATE INDEX subscriptions_user ON subscriptions (user_id);
CREATE INDEX subscriptions_due ON subscriptions (access_ends_at) WHERE ended_at IS NULL;

CREATE TABLE claim_tokens (
    token_hash TEXT        PRIMARY KEY,
    key_id     UUID        NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX claim_tokens_key ON claim_tokens (key_id);

CREATE TABLE email_outbox (
    id              UUID        PRIMARY KEY,
    to_address      TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
