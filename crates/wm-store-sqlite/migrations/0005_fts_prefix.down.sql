DROP TRIGGER IF EXISTS memories_prefix_au;
DROP TRIGGER IF EXISTS memories_prefix_ad;
DROP TRIGGER IF EXISTS memories_prefix_ai;
DROP TABLE IF EXISTS memories_fts_prefix;
