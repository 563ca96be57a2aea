ALTER INDEX memories_tags RESET (fastupdate);
