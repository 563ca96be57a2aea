ALTER TABLE memories ALTER COLUMN search_prefix SET STATISTICS -1;
CREATE INDEX memories_user_hash ON memories (user_id, content_hash);
