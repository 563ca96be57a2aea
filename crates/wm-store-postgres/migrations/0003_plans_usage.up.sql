-- Plans (request limits, quotas, feature flags) and per-day usage counters.
CREATE TABLE plans (
    name              TEXT        PRIMARY KEY,
    per_minute        BIGINT      NOT NULL CHECK (per_minute >= 0),
    daily             BIGINT      NOT NULL CHECK (daily >= 0),
    monthly           BIGINT      NOT NULL CHECK (monthly >= 0),
    max_memories      BIGINT      NOT NULL CHECK (max_memories >= 0),
    max_storage_bytes BIGINT      NOT NULL CHECK (max_storage_bytes >= 0),
    features          JSONB       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(features) = 'object'),
    updated_at        TIMESTAMPTZ NOT NULL
);

INSERT INTO plans (name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at) VALUES
    ('free',       10,   100,     1000,     50,    10485760,    '{"mcp":true,"rest_api":true}', date_trunc('microseconds', now())),
    ('starter',    60,   5000,    100000,   500,   104857600,   '{"mcp":true,"rest_api":true}', date_trunc('microseconds', now())),
    ('pro',        300,  50000,   1000000,  5000,  1073741824,  '{"mcp":true,"rest_api":true}', date_trunc('microseconds', now())),
    ('enterprise', 1000, 1000000, 10000000, 50000, 10737418240, '{"mcp":true,"rest_api":true}', date_trunc('microseconds', now()));

-- No foreign key to users: usage is history, and a batch must never fail because an account
-- was removed between the request and the flush.
CREATE TABLE usage_daily (
    user_id        UUID     NOT NULL,
    day            DATE     NOT NULL,
    endpoint_group TEXT     NOT NULL,
    status_class   SMALLINT NOT NULL CHECK (status_class BETWEEN 1 AND 5),
    count          BIGINT   NOT NULL CHECK (count >= 0),
    PRIMARY KEY (user_id, day, endpoint_group, status_class)
);

CREATE INDEX usage_daily_day ON usage_daily (day);
