DROP TRIGGER IF EXISTS memory_counts_au;
DROP TRIGGER IF EXISTS memory_counts_ad;
DROP TRIGGER IF EXISTS memory_counts_ai;
DROP TABLE IF EXISTS memory_counts;
