-- Back to the 0006 schema: both full-text indexes keyed by `memories.seq`, with their triggers
-- from 0002 and 0005.
DROP TRIGGER IF EXISTS memories_au_text;
DROP TRIGGER IF EXISTS memories_ad;
DROP TRIGGER IF EXISTS memories_ai;
DROP TABLE IF EXISTS memories_fts_prefix;
DROP TABLE IF EXISTS memories_fts;
DROP VIEW IF EXISTS memories_fts_source;
DROP TABLE IF EXISTS memory_owners;

CREATE VIRTUAL TABLE memories_fts USING fts5 (
    title, tags, content,
    content = 'memories', content_rowid = 'seq',
    tokenize = 'porter unicode61'
);

CREATE VIRTUAL TABLE memories_fts_prefix USING fts5 (
    title, tags, content,
    content = 'memories', content_rowid = 'seq',
    tokenize = 'unicode61',
    prefix = '2 3'
);

INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
INSERT INTO memories_fts_prefix (memories_fts_prefix) VALUES ('rebuild');

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

CREATE TRIGGER memories_prefix_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts_prefix (rowid, title, tags, content) VALUES (new.seq, new.title, new.tags, new.content);
END;

CREATE TRIGGER memories_prefix_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts_prefix (memories_fts_prefix, rowid, title, tags, content)
        VALUES ('delete', old.seq, old.title, old.tags, old.content);
END;

CREATE TRIGGER memories_prefix_au AFTER UPDATE OF title, tags, content ON memories
WHEN old.title IS NOT new.title OR old.tags IS NOT new.tags OR old.content IS NOT new.content BEGIN
    INSERT INTO memories_fts_prefix (memories_fts_prefix, rowid, title, tags, content)
        VALUES ('delete', old.seq, old.title, old.tags, old.content);
    INSERT INTO memories_fts_prefix (rowid, title, tags, content) VALUES (new.seq, new.title, new.tags, new.content);
END;
