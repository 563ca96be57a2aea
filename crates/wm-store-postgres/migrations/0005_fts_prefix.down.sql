DROP INDEX IF EXISTS memories_search_prefix;
ALTER TABLE memories DROP COLUMN IF EXISTS search_prefix;
