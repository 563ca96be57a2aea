-- Memories, their tags, full-text index and the consolidation log.
-- `seq` is the stable rowid the FTS5 index refers to; `id` is the public UUID (blob).
-- Timestamps are unix microseconds (UTC). `tags` is a JSON array of strings in the user's order.
CREATE TABLE memories (
    seq          INTEGER PRIMARY KEY,
    id           BLOB    NOT NULL UNIQUE,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    type         TEXT    NOT NULL CHECK (type IN ('short_term', 'long_term')),
    status       TEXT    NOT NULL CHECK (status IN ('active', 'archived')),
    tags         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    metadata     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
    scope        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    accessed_at  INTEGER NOT NULL,
    archived_at  INTEGER,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    content_hash TEXT    NOT NULL
);

CREATE INDEX memories_user_created ON memories (user_id, created_at, id);
CREATE INDEX memories_user_updated ON memories (user_id, updated_at, id);
CREATE INDEX memories_user_accessed ON memories (user_id, accessed_at, id);
CREATE INDEX memories_user_scope_created ON memories (user_id, scope, created_at, id);
CREATE INDEX memories_user_hash ON memories (user_id, content_hash);

-- One row per (memory, tag), kept in sync by triggers: fast "has all these tags" and tag stats.
CREATE TABLE memory_tags (
    user_id    BLOB    NOT NULL,
    tag        TEXT    NOT NULL,
    memory_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, tag, memory_seq)
) WITHOUT ROWID;

CREATE INDEX memory_tags_memory ON memory_tags (memory_seq);

-- Full text over title, tags and content (external content: the text lives in `memories`).
CREATE VIRTUAL TABLE memories_fts USING fts5 (
    title, tags, content,
    content = 'memories', content_rowid = 'seq',
    tokenize = 'porter unicode61'
);

CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, title, tags, content) VALUES (new.seq, new.title, new.tags, new.content);
    INSERT INTO memory_tags (user_id, tag, memory_seq)
        SELECT DISTINCT new.user_id, j.value, new.seq FROM json_each(new.tags) AS j;
END;

CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, tags, content)
        VALUES ('delete', old.seq, old.title, old.tags, old.content);
    DELETE FROM memory_tags WHERE memory_seq = old.seq;
END;

CREATE TRIGGER memories_au_text AFTER UPDATE OF title, tags, content ON memories
WHEN old.title IS NOT new.title OR old.tags IS NOT new.tags OR old.content IS NOT new.content BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, tags, content)
        VALUES ('delete', old.seq, old.title, old.tags, old.content);
    INSERT INTO memories_fts (rowid, title, tags, content) VALUES (new.seq, new.title, new.tags, new.content);
END;

CREATE TRIGGER memories_au_tags AFTER UPDATE OF tags ON memories WHEN old.tags IS NOT new.tags BEGIN
    DELETE FROM memory_tags WHERE memory_seq = old.seq;
    INSERT INTO memory_tags (user_id, tag, memory_seq)
        SELECT DISTINCT new.user_id, j.value, new.seq FROM json_each(new.tags) AS j;
END;

CREATE TABLE consolidations (
    id       BLOB    PRIMARY KEY NOT NULL,
    user_id  BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ran_at   INTEGER NOT NULL,
    dry_run  INTEGER NOT NULL,
    report   TEXT    NOT NULL CHECK (json_valid(report))
);

CREATE INDEX consolidations_user_ran ON consolidations (user_id, ran_at, id);
