//! Filtered, sorted, cursor-paginated listing (`GET /memories`).

use super::{Cursor, Memories};
use crate::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use wm_domain::ValidationError;
use wm_domain::ids::UserId;
use wm_domain::memory::model::validate_scope;
use wm_domain::memory::tags::normalize_tags_field;
use wm_domain::memory::{Memory, MemoryType};
use wm_store::{ListCursor, MemoryQuery, SortField, SortOrder, StatusFilter};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;

/// Which statuses to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ListStatus {
    /// Active only (default).
    #[default]
    Active,
    /// Archived only.
    Archived,
    /// Both.
    All,
}

/// The timestamp to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ListSort {
    /// `created_at` (default).
    #[default]
    Created,
    /// `updated_at`.
    Updated,
    /// `accessed_at`.
    Accessed,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ListOrder {
    /// Oldest first.
    Asc,
    /// Newest first (default).
    #[default]
    Desc,
}

/// A listing request; the adapters fill it from their own syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Only this type.
    pub memory_type: Option<MemoryType>,
    /// All of these tags (normalised like stored tags).
    pub tags: Vec<String>,
    /// Only this scope.
    pub scope: Option<String>,
    /// Status filter.
    pub status: ListStatus,
    /// Sort field.
    pub sort: ListSort,
    /// Sort direction.
    pub order: ListOrder,
    /// 1–100 (default 20).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of memories.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemoryPage {
    /// The memories of this page.
    pub memories: Vec<Memory>,
    /// Pass as `cursor` (with the same sort and order) for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Checks `limit` against 1..=`max`, defaulting to `default`.
pub(crate) fn check_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ValidationError> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ValidationError::new("limit", format!("must be between 1 and {max}"))),
    }
}

impl Memories {
    /// A page of memories. Keyset pagination on (sort timestamp, id): stable under concurrent
    /// inserts (a row never appears twice or is skipped because others were added).
    pub async fn list(&self, owner: UserId, req: &ListRequest) -> CoreResult<MemoryPage> {
        let limit = check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let after = match req.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(c) => {
                let c = Cursor::decode(c)?;
                if (c.sort, c.order) != (req.sort, req.order) {
                    return Err(CoreError::Validation(ValidationError::new(
                        "cursor",
                        "was issued for another sort or order; pass the same ones",
                    )));
                }
                Some(ListCursor { at: c.at, id: c.id })
            }
        };
        let query = MemoryQuery {
            memory_type: req.memory_type,
            tags: normalize_tags_field("tag", &req.tags, &self.limits)?,
            scope: validate_scope(req.scope.as_deref())?,
            status: match req.status {
                ListStatus::Active => StatusFilter::Active,
                ListStatus::Archived => StatusFilter::Archived,
                ListStatus::All => StatusFilter::All,
            },
            sort: sort_field(req.sort),
            order: match req.order {
                ListOrder::Asc => SortOrder::Asc,
                ListOrder::Desc => SortOrder::Desc,
            },
            limit: limit + 1,
            after,
        };
        let mut memories = self.store.list_memories(owner, &query).await?;
        let next_cursor = if memories.len() > limit as usize {
            memories.truncate(limit as usize);
            memories.last().map(|m| {
                let at = match req.sort {
                    ListSort::Created => m.created_at,
                    ListSort::Updated => m.updated_at,
                    ListSort::Accessed => m.accessed_at,
                };
                Cursor { sort: req.sort, order: req.order, at, id: m.id }.encode()
            })
        } else {
            None
        };
        Ok(MemoryPage { memories, next_cursor })
    }

    /// Every memory matching `query` (its `limit` is the page size), following the keyset.
    pub(crate) async fn list_all(&self, owner: UserId, mut query: MemoryQuery) -> CoreResult<Vec<Memory>> {
        let mut out = Vec::new();
        loop {
            let page = self.store.list_memories(owner, &query).await?;
            let full = page.len() >= query.limit as usize;
            let Some(last) = page.last() else { break };
            let at = match query.sort {
                SortField::Created => last.created_at,
                SortField::Updated => last.updated_at,
                SortField::Accessed => last.accessed_at,
            };
            query.after = Some(ListCursor { at, id: last.id });
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

fn sort_field(s: ListSort) -> SortField {
    match s {
        ListSort::Created => SortField::Created,
        ListSort::Updated => SortField::Updated,
        ListSort::Accessed => SortField::Accessed,
    }
}
