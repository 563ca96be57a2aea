-- Per-account memory counts (by type and status) and storage bytes, kept by triggers, so
-- `memory_stats` (and the plan-quota check before every create) costs one row read instead of
-- aggregating all of an account's memories (~50 ms at 50,000 memories).
CREATE TABLE memory_counts (
    user_id        BLOB    PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    short_active   INTEGER NOT NULL DEFAULT 0,
    short_archived INTEGER NOT NULL DEFAULT 0,
    long_active    INTEGER NOT NULL DEFAULT 0,
    long_archived  INTEGER NOT NULL DEFAULT 0,
    bytes          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO memory_counts (user_id, short_active, short_archived, long_active, long_archived, bytes)
    SELECT user_id,
           SUM(type = 'short_term' AND status = 'active'), SUM(type = 'short_term' AND status = 'archived'),
           SUM(type = 'long_term' AND status = 'active'), SUM(type = 'long_term' AND status = 'archived'),
           SUM(size_bytes)
    FROM memories GROUP BY user_id;

CREATE TRIGGER memory_counts_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memory_counts (user_id, short_active, short_archived, long_active, long_archived, bytes)
        VALUES (new.user_id,
                new.type = 'short_term' AND new.status = 'active', new.type = 'short_term' AND new.status = 'archived',
                new.type = 'long_term' AND new.status = 'active', new.type = 'long_term' AND new.status = 'archived',
                new.size_bytes)
        ON CONFLICT (user_id) DO UPDATE SET
            short_active = short_active + excluded.short_active,
            short_archived = short_archived + excluded.short_archived,
            long_active = long_active + excluded.long_active,
            long_archived = long_archived + excluded.long_archived,
            bytes = bytes + excluded.bytes;
END;

CREATE TRIGGER memory_counts_ad AFTER DELETE ON memories BEGIN
    UPDATE memory_counts SET
        short_active = short_active - (old.type = 'short_term' AND old.status = 'active'),
        short_archived = short_archived - (old.type = 'short_term' AND old.status = 'archived'),
        long_active = long_active - (old.type = 'long_term' AND old.status = 'active'),
        long_archived = long_archived - (old.type = 'long_term' AND old.status = 'archived'),
        bytes = bytes - old.size_bytes
    WHERE user_id = old.user_id;
END;

CREATE TRIGGER memory_counts_au AFTER UPDATE OF user_id, type, status, size_bytes ON memories
WHEN old.user_id IS NOT new.user_id OR old.type IS NOT new.type OR old.status IS NOT new.status
    OR old.size_bytes IS NOT new.size_bytes BEGIN
    UPDATE memory_counts SET
        short_active = short_active - (old.type = 'short_term' AND old.status = 'active'),
        short_archived = short_archived - (old.type = 'short_term' AND old.status = 'archived'),
        long_active = long_active - (old.type = 'long_term' AND old.status = 'active'),
        long_archived = long_archived - (old.type = 'long_term' AND old.status = 'archived'),
        bytes = bytes - old.size_bytes
    WHERE user_id = old.user_id;
    INSERT INTO memory_counts (user_id, short_active, short_archived, long_active, long_archived, bytes)
        VALUES (new.user_id,
                new.type = 'short_term' AND new.status = 'active', new.type = 'short_term' AND new.status = 'archived',
                new.type = 'long_term' AND new.status = 'active', new.type = 'long_term' AND new.status = 'archived',
                new.size_bytes)
        ON CONFLICT (user_id) DO UPDATE SET
            short_active = short_active + excluded.short_active,
            short_archived = short_archived + excluded.short_archived,
            long_active = long_active + excluded.long_active,
            long_archived = long_archived + excluded.long_archived,
            bytes = bytes + excluded.bytes;
END;
