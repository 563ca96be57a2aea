-- Memories, their full-text vector, and the consolidation log.
-- `tags` is a TEXT[] in the user's order (GIN-indexed for "has all these tags").

-- The tags as one text for the search vector (array_to_string is only STABLE; this use is not
-- locale- or setting-dependent, so wrapping it as IMMUTABLE is safe). Underscores separate words.
CREATE FUNCTION wm_tags_text(tags TEXT[]) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(array_to_string(tags, ' '), '_', ' ') $$;

CREATE TABLE memories (
    id           UUID        PRIMARY KEY,
    user_id      UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT        NOT NULL,
    content      TEXT        NOT NULL,
    type         TEXT        NOT NULL CHECK (type IN ('short_term', 'long_term')),
    status       TEXT        NOT NULL CHECK (status IN ('active', 'archived')),
    tags         TEXT[]      NOT NULL DEFAULT '{}',
    metadata     JSONB       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    scope        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    accessed_at  TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ,
    size_bytes   BIGINT      NOT NULL CHECK (size_bytes >= 0),
    content_hash TEXT        NOT NULL,
    search       TSVECTOR    GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', wm_tags_text(tags)), 'B')
        || setweight(to_tsvector('english', content), 'C')
    ) STORED
);

CREATE INDEX memories_user_created ON memories (user_id, created_at, id);
CREATE INDEX memories_user_updated ON memories (user_id, updated_at, id);
CREATE INDEX memories_user_accessed ON memories (user_id, accessed_at, id);
CREATE INDEX memories_user_scope_created ON memories (user_id, scope, created_at, id);
CREATE INDEX memories_user_hash ON memories (user_id, content_hash);
CREATE INDEX memories_tags ON memories USING GIN (tags);
CREATE INDEX memories_search ON memories USING GIN (search);

CREATE TABLE consolidations (
    id      UUID        PRIMARY KEY,
    user_id UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ran_at  TIMESTAMPTZ NOT NULL,
    dry_run BOOLEAN     NOT NULL,
    report  JSONB       NOT NULL
);

CREATE INDEX consolidations_user_ran ON consolidations (user_id, ran_at, id);
