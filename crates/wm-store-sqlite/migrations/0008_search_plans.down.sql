CREATE INDEX memories_user_hash ON memories (user_id, content_hash);
