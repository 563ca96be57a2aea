-- Two changes to the plans PostgreSQL picks for search (measured in docs/PERFORMANCE.md, "fifth
-- pass"):
--
-- `memories_user_hash` (user_id, content_hash) served no query: duplicates are grouped in Rust
-- during consolidation. The planner used it for `user_id = $1` in bitmap searches, ANDing every
-- row id of the account (50,000 at the plan's limit, 3-6 ms) to save the visits to other
-- accounts' matches, which cost less than that. Dropping it also takes one index write off
-- every create.
DROP INDEX IF EXISTS memories_user_hash;

-- A trailing prefix (`sta:*`) matches many lexemes, and the planner estimates its matches from
-- the most common lexemes it keeps statistics for (10 per unit of statistics target). With the
-- default 100, a prefix over a few hundred middling words was estimated at a third of its
-- matches, so it chose the bitmap of all of them (8,000 heap visits, 26 ms) over walking the
-- account newest first until enough are found (7 ms). Words keep the default: a word's
-- estimate is its own frequency, which the default already holds for every word common enough
-- to matter to the choice.
ALTER TABLE memories ALTER COLUMN search_prefix SET STATISTICS 1000;
