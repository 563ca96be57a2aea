-- Full-text rowids partitioned by owner, so a search walks only its account's matches, newest
-- first, and can stop after the `candidates` most recent (bounded ranking, see
-- `SearchQuery::candidates`). Both indexes (`memories_fts`, `memories_fts_prefix`) keep their
-- columns, tokenizers and weights; only their rowid changes from `memories.seq` to
--
--     (memory_owners.no << 36) | memories.seq
--
-- so one account's entries are one contiguous rowid range, in insertion order, which FTS5 walks
-- natively (`rowid BETWEEN lo AND hi ORDER BY rowid DESC`). Other accounts' matches are never
-- visited, and scores are unchanged (bm25 sees the same documents, columns and lengths).
-- Bounds: seq < 2^36 and fewer than 2^27 accounts with memories; the insert trigger refuses
-- anything beyond them rather than corrupt the index.

-- A small, stable number per account that has (had) memories. No foreign key on purpose: the
-- delete trigger of a memory removed by `ON DELETE CASCADE` from `users` still needs its owner's
-- number, and numbers are never reused.
CREATE TABLE memory_owners (
    no      INTEGER PRIMARY KEY,
    user_id BLOB    NOT NULL UNIQUE
);

INSERT INTO memory_owners (user_id) SELECT user_id FROM memories GROUP BY user_id ORDER BY MIN(seq);

DROP TRIGGER memories_ai;
DROP TRIGGER memories_ad;
DROP TRIGGER memories_au_text;
DROP TRIGGER memories_prefix_ai;
DROP TRIGGER memories_prefix_ad;
DROP TRIGGER memories_prefix_au;
DROP TABLE memories_fts;
DROP TABLE memories_fts_prefix;

-- The indexed text with its full-text rowid (the external content of both indexes; read only by
-- 'rebuild' and 'integrity-check').
CREATE VIEW memories_fts_source AS
    SELECT (o.no << 36) | m.seq AS fts_rowid, m.title, m.tags, m.content
    FROM memories m JOIN memory_owners o ON o.user_id = m.user_id;

CREATE VIRTUAL TABLE memories_fts USING fts5 (
    title, tags, content,
    content = 'memories_fts_source', content_rowid = 'fts_rowid',
    tokenize = 'porter unicode61'
);

CREATE VIRTUAL TABLE memories_fts_prefix USING fts5 (
    title, tags, content,
    content = 'memories_fts_source', content_rowid = 'fts_rowid',
    tokenize = 'unicode61',
    prefix = '2 3'
);

INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
INSERT INTO memories_fts_prefix (memories_fts_prefix) VALUES ('rebuild');

CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    SELECT RAISE(ABORT, 'memories.seq is beyond the full-text rowid range') WHERE new.seq >= 68719476736;
    INSERT INTO memory_owners (user_id) VALUES (new.user_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT RAISE(ABORT, 'too many accounts for the full-text rowid range')
        FROM memory_owners WHERE user_id = new.user_id AND no >= 134217728;
    INSERT INTO memories_fts (rowid, title, tags, content)
        SELECT (o.no << 36) | new.seq, new.title, new.tags, new.content
        FROM memory_owners o WHERE o.user_id = new.user_id;
    INSERT INTO memories_fts_prefix (rowid, title, tags, content)
        SELECT (o.no << 36) | new.seq, new.title, new.tags, new.content
        FROM memory_owners o WHERE o.user_id = new.user_id;
    INSERT INTO memory_tags (user_id, tag, memory_seq)
        SELECT DISTINCT new.user_id, j.value, new.seq FROM json_each(new.tags) AS j;
END;

CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, tags, content)
        SELECT 'delete', (o.no << 36) | old.seq, old.title, old.tags, old.content
        FROM memory_owners o WHERE o.user_id = old.user_id;
    INSERT INTO memories_fts_prefix (memories_fts_prefix, rowid, title, tags, content)
        SELECT 'delete', (o.no << 36) | old.seq, old.title, old.tags, old.content
        FROM memory_owners o WHERE o.user_id = old.user_id;
    DELETE FROM memory_tags WHERE memory_seq = old.seq;
END;

CREATE TRIGGER memories_au_text AFTER UPDATE OF user_id, title, tags, content ON memories
WHEN old.user_id IS NOT new.user_id OR old.title IS NOT new.title OR old.tags IS NOT new.tags
    OR old.content IS NOT new.content BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, title, tags, content)
        SELECT 'delete', (o.no << 36) | old.seq, old.title, old.tags, old.content
        FROM memory_owners o WHERE o.user_id = old.user_id;
    INSERT INTO memories_fts_prefix (memories_fts_prefix, rowid, title, tags, content)
        SELECT 'delete', (o.no << 36) | old.seq, old.title, old.tags, old.content
        FROM memory_owners o WHERE o.user_id = old.user_id;
    INSERT INTO memory_owners (user_id) VALUES (new.user_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT RAISE(ABORT, 'too many accounts for the full-text rowid range')
        FROM memory_owners WHERE user_id = new.user_id AND no >= 134217728;
    INSERT INTO memories_fts (rowid, title, tags, content)
        SELECT (o.no << 36) | new.seq, new.title, new.tags, new.content
        FROM memory_owners o WHERE o.user_id = new.user_id;
    INSERT INTO memories_fts_prefix (rowid, title, tags, content)
        SELECT (o.no << 36) | new.seq, new.title, new.tags, new.content
        FROM memory_owners o WHERE o.user_id = new.user_id;
END;
