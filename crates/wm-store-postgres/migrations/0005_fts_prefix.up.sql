-- An unstemmed twin of `memories.search` ('simple' config: lowercased words, no stemming, no stop
-- words), used for trailing-prefix terms. With the 'english' config a prefix is stemmed before it is
-- matched against stems (`deployme:*` → `deploym:*`), which misses "deployment" (stem `deploy`).
-- Words and phrases keep using `search`. Adding the generated column fills it for existing rows.
--
-- Both vectors are kept in the row (STORAGE MAIN: compressed inline if needed) rather than moved
-- to TOAST: ranking reads the vector of every matching row, and out-of-line vectors made that
-- 1.5–4x slower at 50,000 memories (rows with both vectors exceed the ~2 KB TOAST threshold;
-- the content is moved out instead, and only the returned rows need it). The rewrite for the new
-- column applies this to existing rows.
ALTER TABLE memories ALTER COLUMN search SET STORAGE MAIN;

ALTER TABLE memories
    ADD COLUMN search_prefix TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', wm_tags_text(tags)), 'B')
        || setweight(to_tsvector('simple', content), 'C')
    ) STORED,
    ALTER COLUMN search_prefix SET STORAGE MAIN;

CREATE INDEX memories_search_prefix ON memories USING GIN (search_prefix);
