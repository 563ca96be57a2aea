-- Plans (request limits, quotas, feature flags) and per-day usage counters.
-- `updated_at` is unix microseconds (UTC); `day` is the UTC day as 'YYYY-MM-DD'.
CREATE TABLE plans (
    name              TEXT    PRIMARY KEY NOT NULL,
    per_minute        INTEGER NOT NULL CHECK (per_minute >= 0),
    daily             INTEGER NOT NULL CHECK (daily >= 0),
    monthly           INTEGER NOT NULL CHECK (monthly >= 0),
    max_memories      INTEGER NOT NULL CHECK (max_memories >= 0),
    max_storage_bytes INTEGER NOT NULL CHECK (max_storage_bytes >= 0),
    features          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(features) AND json_type(features) = 'object'),
    updated_at        INTEGER NOT NULL
);

INSERT INTO plans (name, per_minute, daily, monthly, max_memories, max_storage_bytes, features, updated_at) VALUES
    ('free',       10,   100,     1000,     50,    10485760,    '{"mcp":true,"rest_api":true}', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
    ('starter',    60,   5000,    100000,   500,   104857600,   '{"mcp":true,"rest_api":true}', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
    ('pro',        300,  50000,   1000000,  5000,  1073741824,  '{"mcp":true,"rest_api":true}', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)),
    ('enterprise', 1000, 1000000, 10000000, 50000, 10737418240, '{"mcp":true,"rest_api":true}', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));

-- No foreign key to users: usage is history, and a batch must never fail because an account
-- was removed between the request and the flush.
CREATE TABLE usage_daily (
    user_id        BLOB    NOT NULL,
    day            TEXT    NOT NULL,
    endpoint_group TEXT    NOT NULL,
    status_class   INTEGER NOT NULL CHECK (status_class BETWEEN 1 AND 5),
    count          INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (user_id, day, endpoint_group, status_class)
) WITHOUT ROWID;

CREATE INDEX usage_daily_day ON usage_daily (day);
