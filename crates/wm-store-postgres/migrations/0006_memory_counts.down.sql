DROP TRIGGER IF EXISTS memory_counts_delete ON memories;
DROP TRIGGER IF EXISTS memory_counts_update ON memories;
DROP TRIGGER IF EXISTS memory_counts_insert ON memories;
DROP FUNCTION IF EXISTS wm_memory_counts();
DROP TABLE IF EXISTS memory_counts;
