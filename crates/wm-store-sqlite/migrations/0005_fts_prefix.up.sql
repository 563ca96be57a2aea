-- A second full-text index over the same columns with plain `unicode61` (no stemming), used for
-- trailing-prefix terms: FTS5 stems a prefix query term with `porter` (`deploy*` → `deploi*`), which
-- then misses words whose stem differs from the typed prefix ("deployment" is indexed as `deploy`).
-- Words and phrases keep using the stemmed `memories_fts`. Kept in sync by the triggers below
-- (the same shape as `memories_fts`'s in 0002), backfilled from the existing rows.
CREATE VIRTUAL TABLE memories_fts_prefix USING fts5 (
    title, tags, content,
    content = 'memories', content_rowid = 'seq',
    tokenize = 'unicode61',
    prefix = '2 3'
);

INSERT INTO memories_fts_prefix (memories_fts_prefix) VALUES ('rebuild');

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
