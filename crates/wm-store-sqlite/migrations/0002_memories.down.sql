DROP TABLE IF EXISTS consolidations;
DROP TRIGGER IF EXISTS memories_au_tags;
DROP TRIGGER IF EXISTS memories_au_text;
DROP TRIGGER IF EXISTS memories_ad;
DROP TRIGGER IF EXISTS memories_ai;
DROP TABLE IF EXISTS memories_fts;
DROP TABLE IF EXISTS memory_tags;
DROP TABLE IF EXISTS memories;
