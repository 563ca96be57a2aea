//! Filtered listing with keyset pagination, and full-text search with FTS5.

use super::row::{self, COLS, type_str};
use crate::backend::{db_err, micros};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use wm_domain::ids::UserId;
use wm_domain::memory::{Memory, MemoryType};
use wm_store::fts_query::{FtsQuery, FtsTerm};
use wm_store::{MemoryQuery, SearchHit, SearchQuery, SortField, SortOrder, StatusFilter, StoreResult};

/// FTS5 column weights (title, tags, content) for `bm25`.
const BM25_WEIGHTS: &str = "10.0, 4.0, 1.0";

/// Appends the filters every listing and search shares (owner first).
fn push_filters(
    qb: &mut QueryBuilder<'_, Sqlite>,
    owner: UserId,
    memory_type: Option<MemoryType>,
    tags: &[String],
    scope: Option<&str>,
    status: StatusFilter,
) {
    qb.push(" m.user_id = ").push_bind(owner.0);
    if let Some(t) = memory_type {
        qb.push(" AND m.type = ").push_bind(type_str(t));
    }
    if let Some(s) = scope {
        qb.push(" AND m.scope = ").push_bind(s.to_owned());
    }
    match status {
        StatusFilter::Active => qb.push(" AND m.status = 'active'"),
        StatusFilter::Archived => qb.push(" AND m.status = 'archived'"),
        StatusFilter::All => qb,
    };
    for tag in tags {
        qb.push(" AND EXISTS (SELECT 1 FROM memory_tags t WHERE t.user_id = m.user_id AND t.tag = ")
            .push_bind(tag.clone())
            .push(" AND t.memory_seq = m.seq)");
    }
}

pub(super) async fn list(pool: &SqlitePool, owner: UserId, q: &MemoryQuery) -> StoreResult<Vec<Memory>> {
    let col = match q.sort {
        SortField::Created => "m.created_at",
        SortField::Updated => "m.updated_at",
        SortField::Accessed => "m.accessed_at",
    };
    let (cmp, dir) = match q.order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
    };
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLS} FROM memories m WHERE"));
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), q.status);
    if let Some(c) = q.after {
        qb.push(format!(" AND ({col}, m.id) {cmp} (")).push_bind(micros(c.at)).push(", ").push_bind(c.id).push(")");
    }
    qb.push(format!(" ORDER BY {col} {dir}, m.id {dir} LIMIT ")).push_bind(i64::from(q.limit));
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(row::memory).collect()
}

/// A parsed query rendered as FTS5 MATCH expressions, one per index: words and phrases for the
/// stemmed `memories_fts` (`porter`), the trailing prefix for the unstemmed `memories_fts_prefix`
/// (FTS5 would stem a prefix term too, and `deploy*` → `deploi*` misses "deployment" → `deploy`).
/// Every term is quoted; terms are AND-ed by juxtaposition.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Fts5Match {
    /// Words and phrases, for `memories_fts`.
    pub words: Option<String>,
    /// Prefix terms, for `memories_fts_prefix`.
    pub prefix: Option<String>,
}

pub(super) fn render_fts5(q: &FtsQuery) -> Fts5Match {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let (mut words, mut prefix) = (Vec::new(), Vec::new());
    for t in &q.terms {
        match t {
            FtsTerm::Word(w) => words.push(quote(w)),
            FtsTerm::Phrase(ws) => words.push(quote(&ws.join(" "))),
            FtsTerm::Prefix(p) => prefix.push(format!("{}*", quote(p))),
        }
    }
    let join = |parts: Vec<String>| (!parts.is_empty()).then(|| parts.join(" "));
    Fts5Match { words: join(words), prefix: join(prefix) }
}

/// bm25 weights (title, tags, content) for either index.
fn bm25(table: &str) -> String {
    format!("bm25({table}, {BM25_WEIGHTS})")
}

/// Bits of a full-text rowid that hold `memories.seq`; the bits above hold the owner's number
/// (`memory_owners.no`), so each account's entries are one contiguous rowid range
/// (migration 0007).
const SEQ_BITS: u32 = 36;
/// `memories.seq` of a full-text rowid: `rowid & SEQ_MASK`.
const SEQ_MASK: i64 = (1 << SEQ_BITS) - 1;

/// Appends `AND {table}.rowid BETWEEN lo AND hi`: the owner's rowid range in a full-text index
/// (the empty range `-1..-1` for an account that never had memories). FTS5 applies the range
/// itself, so other accounts' entries are never visited.
fn push_owner_range(qb: &mut QueryBuilder<'_, Sqlite>, table: &str, owner: UserId) {
    qb.push(format!(
        " AND {table}.rowid BETWEEN coalesce((SELECT no << {SEQ_BITS} FROM memory_owners WHERE user_id = "
    ))
    .push_bind(owner.0)
    .push(format!("), -1) AND coalesce((SELECT (no << {SEQ_BITS}) | {SEQ_MASK} FROM memory_owners WHERE user_id = "))
    .push_bind(owner.0)
    .push("), -1)");
}

/// Newest first with score 0 (no usable query), same filters.
async fn newest(
    pool: &SqlitePool,
    owner: UserId,
    q: &SearchQuery,
    status: StatusFilter,
) -> StoreResult<Vec<SearchHit>> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLS}, 0.0 AS score FROM memories m WHERE"));
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), status);
    qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(q.limit));
    hits(qb, pool).await
}

/// Ranked search with a bounded candidate set (see [`SearchQuery`]):
///
/// 1. candidates: the ranking index (`memories_fts` when the query has words, else
///    `memories_fts_prefix`) walked newest first within the owner's rowid range, each entry
///    joined to its row for the filters, stopping after `q.candidates` that pass; with words
///    and a prefix, the prefix index's matches (also within the owner's range) filter them;
/// 2. bm25 is computed for those candidates only; the best `q.limit` are kept;
/// 3. only they are joined back to `memories` for every column.
///
/// Below `q.candidates` matches this is exact ranking (same scores, same order as ranking all).
pub(super) async fn search(pool: &SqlitePool, owner: UserId, q: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
    let parsed = q.text.as_deref().map(FtsQuery::parse).unwrap_or_default();
    let status = if q.include_archived { StatusFilter::All } else { StatusFilter::Active };
    let Fts5Match { words, prefix } = render_fts5(&parsed);
    let (table, ranked, filter) = match (words, prefix) {
        (None, None) => return newest(pool, owner, q, status).await,
        (Some(words), prefix) => ("memories_fts", words, prefix.map(|p| ("memories_fts_prefix", p))),
        (None, Some(prefix)) => ("memories_fts_prefix", prefix, None),
    };
    // `CROSS JOIN` keeps the index as the outer loop, so its rowid order serves `ORDER BY` and
    // the walk stops at the candidate limit.
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {COLS}, r.score AS score FROM (\
         SELECT c.seq, c.score, c.created_at, c.id FROM (\
         SELECT m.seq, -{} AS score, m.created_at, m.id \
         FROM {table} CROSS JOIN memories m ON m.seq = {table}.rowid & {SEQ_MASK} WHERE {table} MATCH ",
        bm25(table)
    ));
    qb.push_bind(ranked);
    push_owner_range(&mut qb, table, owner);
    if let Some((other, terms)) = filter {
        // `+` keeps this a filter on each candidate (one lookup in a set built once) instead of
        // a rowid constraint that would re-run the ranking index's MATCH per value.
        qb.push(format!(" AND +{table}.rowid IN (SELECT rowid FROM {other} WHERE {other} MATCH ")).push_bind(terms);
        push_owner_range(&mut qb, other, owner);
        qb.push(")");
    }
    // Tags first, on the index's rowid alone: an entry without them is skipped before its row
    // is read.
    for tag in &q.tags {
        qb.push(" AND EXISTS (SELECT 1 FROM memory_tags t WHERE t.user_id = ")
            .push_bind(owner.0)
            .push(" AND t.tag = ")
            .push_bind(tag.clone())
            .push(format!(" AND t.memory_seq = {table}.rowid & {SEQ_MASK})"));
    }
    qb.push(" AND");
    push_filters(&mut qb, owner, q.memory_type, &[], q.scope.as_deref(), status);
    qb.push(format!(" ORDER BY {table}.rowid DESC LIMIT ")).push_bind(i64::from(q.candidates));
    qb.push(") c ORDER BY c.score DESC, c.created_at DESC, c.id DESC LIMIT ").push_bind(i64::from(q.limit));
    qb.push(") r JOIN memories m ON m.seq = r.seq ORDER BY r.score DESC, r.created_at DESC, r.id DESC");
    hits(qb, pool).await
}

/// Runs a search statement selecting [`COLS`] and `score`.
async fn hits(mut qb: QueryBuilder<'_, Sqlite>, pool: &SqlitePool) -> StoreResult<Vec<SearchHit>> {
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let score: f64 = r.try_get("score").map_err(db_err)?;
            Ok(SearchHit { memory: row::memory(r)?, score })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_terms() {
        let q = FtsQuery::parse(r#"Rust "async await" NEAR( pre*"#);
        let m = render_fts5(&q);
        assert_eq!(m.words.as_deref(), Some(r#""Rust" "async await" "NEAR""#));
        assert_eq!(m.prefix.as_deref(), Some(r#""pre"*"#));
        let m = render_fts5(&FtsQuery::parse("a AND OR"));
        assert_eq!(m, Fts5Match { words: Some(r#""a" "AND" "OR""#.into()), prefix: None });
        let m = render_fts5(&FtsQuery::parse("deploy*"));
        assert_eq!(m, Fts5Match { words: None, prefix: Some(r#""deploy"*"#.into()) });
        assert_eq!(render_fts5(&FtsQuery::parse("*")), Fts5Match { words: None, prefix: None });
    }
}
