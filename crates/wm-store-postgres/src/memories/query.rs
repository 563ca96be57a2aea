//! Filtered listing with keyset pagination, and full-text search over the weighted `search`
//! tsvector (title A, tags B, content C) ranked by `ts_rank`, with its unstemmed twin
//! `search_prefix` (migration 0005) for trailing-prefix terms.

use super::row::{self, COLS, type_str};
use crate::backend::db_err;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use wm_domain::ids::UserId;
use wm_domain::memory::{Memory, MemoryType};
use wm_store::fts_query::{FtsQuery, FtsTerm};
use wm_store::{MemoryQuery, SearchHit, SearchQuery, SortField, SortOrder, StatusFilter, StoreResult};

/// Appends the filters every listing and search shares (owner first).
fn push_filters(
    qb: &mut QueryBuilder<'_, Postgres>,
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
    if !tags.is_empty() {
        qb.push(" AND m.tags @> ").push_bind(tags.to_vec());
    }
}

pub(super) async fn list(pool: &PgPool, owner: UserId, q: &MemoryQuery) -> StoreResult<Vec<Memory>> {
    let col = match q.sort {
        SortField::Created => "m.created_at",
        SortField::Updated => "m.updated_at",
        SortField::Accessed => "m.accessed_at",
    };
    let (cmp, dir) = match q.order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
    };
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {COLS} FROM memories m WHERE"));
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), q.status);
    if let Some(c) = q.after {
        qb.push(format!(" AND ({col}, m.id) {cmp} (")).push_bind(c.at).push(", ").push_bind(c.id).push(")");
    }
    qb.push(format!(" ORDER BY {col} {dir}, m.id {dir} LIMIT ")).push_bind(i64::from(q.limit));
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(row::memory).collect()
}

/// A parsed query rendered as `to_tsquery` input, one per search vector: words and phrases for the
/// stemmed `search` ('english'), the trailing prefix for the unstemmed `search_prefix` ('simple'):
/// a stemmed prefix misses words whose stem is shorter than the prefix (`deployme:*` → `deploym:*`
/// against "deployment" → `deploy`). Lexemes are quoted and AND-ed with `&`, phrases joined with
/// `<->`, prefixes marked `:*`. Words hold only letters and digits; quotes are escaped anyway.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TsQueries {
    /// Words and phrases, for `to_tsquery('english', …)` against `search`.
    pub words: Option<String>,
    /// Prefix terms, for `to_tsquery('simple', …)` against `search_prefix`.
    pub prefix: Option<String>,
}

pub(super) fn render_tsquery(q: &FtsQuery) -> TsQueries {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    let (mut words, mut prefix) = (Vec::new(), Vec::new());
    for t in &q.terms {
        match t {
            FtsTerm::Word(w) => words.push(quote(w)),
            FtsTerm::Phrase(ws) => {
                words.push(format!("({})", ws.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" <-> ")))
            }
            FtsTerm::Prefix(p) => prefix.push(format!("{}:*", quote(p))),
        }
    }
    let join = |parts: Vec<String>| (!parts.is_empty()).then(|| parts.join(" & "));
    TsQueries { words: join(words), prefix: join(prefix) }
}

/// Newest first with score 0 (no usable query), same filters.
async fn newest(pool: &PgPool, owner: UserId, q: &SearchQuery, status: StatusFilter) -> StoreResult<Vec<SearchHit>> {
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {COLS} FROM memories m WHERE"));
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), status);
    qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(q.limit));
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(|r| Ok(SearchHit { memory: row::memory(r)?, score: 0.0 })).collect()
}

/// Ranked full-text matches with a bounded candidate set (see [`SearchQuery`]): ranked by
/// `search` when there are words, else by `search_prefix`; the other vector (if used) only
/// filters. At least one of `words` and `prefix` is set.
///
/// The candidates are the account's `q.candidates` newest matches that pass the filters
/// (`ORDER BY created_at DESC, id DESC LIMIT candidates`), which leaves the plan to PostgreSQL:
/// for a rare term, the GIN bitmap of its matches (all of them fetched, fewer than the bound
/// or not many more); for a common one, walking `memories_user_created` backwards with the
/// tsquery as a filter until enough are found. `ts_rank` is in the candidates' select list, so
/// it runs once per fetched match and never on a memory the walk did not reach; only the best
/// `q.limit` are joined back for every column.
///
/// The statement is not kept prepared (`persistent(false)`): a cached generic plan cannot see the
/// tsquery, so it would pick one of the two plans for every term; a one-off statement is
/// planned with its values.
async fn ranked(
    pool: &PgPool,
    owner: UserId,
    q: &SearchQuery,
    status: StatusFilter,
    words: Option<&str>,
    prefix: Option<&str>,
) -> StoreResult<Vec<SearchHit>> {
    let (rank_col, rank_cfg, rank_query) = match (words, prefix) {
        (Some(w), _) => ("m.search", "english", w),
        (None, Some(p)) => ("m.search_prefix", "simple", p),
        (None, None) => return newest(pool, owner, q, status).await,
    };
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {COLS}, r.score FROM (SELECT c.id, c.created_at, c.score FROM (\
         SELECT m.id, m.created_at, ts_rank({rank_col}, to_tsquery('{rank_cfg}', "
    ));
    qb.push_bind(rank_query.to_owned()).push("))::float8 AS score FROM memories m WHERE");
    if let Some(w) = words {
        qb.push(" m.search @@ to_tsquery('english', ").push_bind(w.to_owned()).push(") AND");
    }
    if let Some(p) = prefix {
        qb.push(" m.search_prefix @@ to_tsquery('simple', ").push_bind(p.to_owned()).push(") AND");
    }
    push_filters(&mut qb, owner, q.memory_type, &q.tags, q.scope.as_deref(), status);
    qb.push(" ORDER BY m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(q.candidates));
    qb.push(") c ORDER BY c.score DESC, c.created_at DESC, c.id DESC LIMIT ").push_bind(i64::from(q.limit));
    qb.push(") r JOIN memories m ON m.id = r.id ORDER BY r.score DESC, r.created_at DESC, r.id DESC");
    let rows = qb.build().persistent(false).fetch_all(pool).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let score: f64 = r.try_get("score").map_err(db_err)?;
            Ok(SearchHit { memory: row::memory(r)?, score })
        })
        .collect()
}

pub(super) async fn search(pool: &PgPool, owner: UserId, q: &SearchQuery) -> StoreResult<Vec<SearchHit>> {
    let parsed = q.text.as_deref().map(FtsQuery::parse).unwrap_or_default();
    let status = if q.include_archived { StatusFilter::All } else { StatusFilter::Active };
    let TsQueries { words, prefix } = render_tsquery(&parsed);
    let hits = ranked(pool, owner, q, status, words.as_deref(), prefix.as_deref()).await?;
    match words {
        // Words that are all stop words match nothing: search as if they were not there.
        Some(w) if hits.is_empty() && only_stop_words(pool, &w).await? => {
            ranked(pool, owner, q, status, None, prefix.as_deref()).await
        }
        _ => Ok(hits),
    }
}

/// True when the query reduces to nothing (only stop words): treated like no query at all.
async fn only_stop_words(pool: &PgPool, tsquery: &str) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT numnode(to_tsquery('english', $1)) = 0")
        .bind(tsquery)
        .fetch_one(pool)
        .await
        .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_lexemes() {
        let q = FtsQuery::parse(r#"Rust "async await" NEAR( pre*"#);
        let t = render_tsquery(&q);
        assert_eq!(t.words.as_deref(), Some("'Rust' & ('async' <-> 'await') & 'NEAR'"));
        assert_eq!(t.prefix.as_deref(), Some("'pre':*"));
        let t = render_tsquery(&FtsQuery::parse("a AND OR"));
        assert_eq!(t, TsQueries { words: Some("'a' & 'AND' & 'OR'".into()), prefix: None });
        let t = render_tsquery(&FtsQuery::parse("deploy*"));
        assert_eq!(t, TsQueries { words: None, prefix: Some("'deploy':*".into()) });
        assert_eq!(render_tsquery(&FtsQuery::parse("*")), TsQueries { words: None, prefix: None });
    }
}
