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

pub(super) async fn search(pool: &SqlitePool, owner: UserId, q: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
    let parsed = q.text.as_deref().map(FtsQuery::parse).unwrap_or_default();
    let status = if q.include_archived { StatusFilter::All } else { StatusFilter::Active };
    let Fts5Match { words, prefix } = render_fts5(&parsed);
    // Rank by the stemmed index when the query has words, else by the prefix index; the other
    // index (if used) only filters by rowid.
    let mut qb = match (words, prefix) {
        (None, None) => QueryBuilder::<Sqlite>::new(format!("SELECT {COLS}, 0.0 AS score FROM memories m WHERE")),
        (Some(words), prefix) => {
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {COLS}, -{} AS score FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid \
                 WHERE memories_fts MATCH ",
                bm25("memories_fts")
            ));
            qb.push_bind(words);
            if let Some(prefix) = prefix {
                qb.push(" AND m.seq IN (SELECT rowid FROM memories_fts_prefix WHERE memories_fts_prefix MATCH ")
                    .push_bind(prefix)
                    .push(")");
            }
            qb.push(" AND");
            qb
        }
        (None, Some(prefix)) => {
            let mut qb = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {COLS}, -{} AS score FROM memories_fts_prefix \
                 JOIN memories m ON m.seq = memories_fts_prefix.rowid WHERE memories_fts_prefix MATCH ",
                bm25("memories_fts_prefix")
            ));
            qb.push_bind(prefix).push(" AND");
            qb
        }
    };
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), status);
    qb.push(" ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(q.limit));
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
