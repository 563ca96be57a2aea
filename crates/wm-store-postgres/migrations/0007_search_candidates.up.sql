-- Search ranks at most `SearchQuery::candidates` of an account's newest matches. On PostgreSQL
-- the candidates come from the plan chosen for each query (see `memories/query.rs`): the GIN
-- bitmap of a rare term's matches, or walking `memories_user_created` backwards with the tsquery
-- as a filter until enough are found for a common one. Neither needs a new index.
--
-- Tag filters use the GIN index on `tags`. With `fastupdate` (the default) new entries wait in a
-- pending list of up to 4 MB that every scan of the index reads in full until a vacuum merges
-- it: after 60,000 inserts all of them were still there, and a search with a tag filter spent
-- ~6 ms reading it (p50 of the benchmark's word + tag queries 8.2 ms, 1.5 ms without it). A
-- memory has a few tags, so inserting them into the index directly costs little (no measurable
-- change in create throughput).
ALTER INDEX memories_tags SET (fastupdate = off);
SELECT gin_clean_pending_list('memories_tags');
