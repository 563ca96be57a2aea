-- An unstemmed twin of `memories.search` ('simple' config: lowercased words, no stemming, no stop
-- words), used for trailing-prefix terms. With the 'english' config a prefix is stemmed before it is
-- matched against stems (`deployme:*` → `deploym:*`), which misses "deployment" (stem `deploy`).
-- Words and phrases keep using `search`. Adding the generated column fills it for existing rows.
ALTER TABLE memories ADD COLUMN search_prefix TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A')
    || setweight(to_tsvector('simple', wm_tags_text(tags)), 'B')
    || setweight(to_tsvector('simple', content), 'C')
) STORED;

CREATE INDEX memories_search_prefix ON memories USING GIN (search_prefix);
