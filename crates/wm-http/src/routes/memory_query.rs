//! Query strings of the memory routes. `GET /memories` takes a repeatable `tag`, which the
//! standard query extractor cannot express, so it is parsed here from the raw query.

use crate::error::ApiError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use wm_core::memories::{ListOrder, ListRequest, ListSort, ListStatus};
use wm_domain::memory::MemoryType;

/// Query of `GET /memories` (documentation; parsed by [`parse_list_query`]).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQueryDoc {
    /// `short_term` or `long_term`.
    #[param(rename = "type", inline)]
    pub memory_type: Option<MemoryType>,
    /// Repeatable (`?tag=a&tag=b`): every listed tag must be present.
    pub tag: Option<Vec<String>>,
    /// Only memories of this scope (e.g. `user:42`).
    pub scope: Option<String>,
    /// `active` (default), `archived` or `all`.
    #[param(inline)]
    pub status: Option<ListStatus>,
    /// `created` (default), `updated` or `accessed`.
    #[param(inline)]
    pub sort: Option<ListSort>,
    /// `desc` (default) or `asc`.
    #[param(inline)]
    pub order: Option<ListOrder>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (same `sort` and `order`).
    pub cursor: Option<String>,
}

fn value<T: DeserializeOwned>(field: &str, raw: &str, allowed: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| ApiError::validation(field, format!("must be one of {allowed}")))
}

/// Parses the raw query of `GET /memories`; unknown or repeated parameters (other than `tag`)
/// are a 422 naming the parameter.
pub fn parse_list_query(raw: Option<&str>) -> Result<ListRequest, ApiError> {
    let mut req = ListRequest::default();
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if k != "tag" {
            if seen.iter().any(|s| *s == k) {
                return Err(ApiError::validation(&k, "must be given at most once"));
            }
            seen.push(k.to_string());
        }
        match &*k {
            "type" => req.memory_type = Some(value("type", &v, "short_term, long_term")?),
            "tag" => req.tags.push(v.into_owned()),
            "scope" => req.scope = Some(v.into_owned()),
            "status" => req.status = value("status", &v, "active, archived, all")?,
            "sort" => req.sort = value("sort", &v, "created, updated, accessed")?,
            "order" => req.order = value("order", &v, "asc, desc")?,
            "limit" => {
                let n = v.trim().parse().map_err(|_| ApiError::validation("limit", "must be between 1 and 100"))?;
                req.limit = Some(n);
            }
            "cursor" => req.cursor = Some(v.into_owned()),
            other => return Err(ApiError::validation(other, "is not a known parameter")),
        }
    }
    Ok(req)
}

/// Query of `DELETE /memories/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `true` deletes for good; otherwise the memory is archived.
    pub permanent: Option<bool>,
}

/// Query of `GET /consolidations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// 1–100, default 20.
    pub limit: Option<u32>,
}
