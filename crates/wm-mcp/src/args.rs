//! Tool arguments: parsed into the same domain request types the REST API uses, with every
//! mistake (wrong type, unknown or missing field) reported as a `validation_failed` error
//! naming the field, never as a protocol error.

use rmcp::model::JsonObject;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use uuid::Uuid;
use wm_core::memories::{ListOrder, ListRequest, ListSort, ListStatus};
use wm_domain::ValidationError;
use wm_domain::memory::{MemoryType, UpdateMemoryRequest};

/// Parse tool arguments into `T`.
pub fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(serde_json::Value::Object(args))
        .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
}

/// Turns a serde error at `path` into an error naming the field.
fn field_error(path: &str, message: &str) -> ValidationError {
    let join = |name: &str| if path == "." { name.to_owned() } else { format!("{path}.{name}") };
    if let Some(name) = quoted_after(message, "missing field `") {
        return ValidationError::new(join(name), "is required");
    }
    if let Some(name) = quoted_after(message, "unknown field `") {
        let expected = message.split_once(", expected ").map_or(String::new(), |(_, e)| format!(" (expected {e})"));
        // The path already ends with the unknown key.
        let field = if path == "." { name.to_owned() } else { path.to_owned() };
        return ValidationError::new(field, format!("is not a known argument{expected}"));
    }
    let field = if path == "." { "arguments" } else { path };
    ValidationError::new(field, message)
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// Tools that take no arguments.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// The memory a tool acts on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    /// The memory's id (UUID).
    pub id: Uuid,
}

/// Arguments of `delete_memory`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteArgs {
    /// The memory's id (UUID).
    pub id: Uuid,
    /// `true` deletes for good; otherwise (default) the memory is archived and can be restored.
    #[serde(default)]
    pub permanent: bool,
}

/// Arguments of `update_memory`: `id` plus the fields of a REST `PATCH`.
#[derive(Debug)]
pub struct UpdateArgs {
    /// The memory's id.
    pub id: Uuid,
    /// The change.
    pub patch: UpdateMemoryRequest,
}

impl UpdateArgs {
    /// Take `id` out and parse the rest as an [`UpdateMemoryRequest`].
    pub fn parse(mut args: JsonObject) -> Result<Self, ValidationError> {
        let id = args.remove("id").ok_or_else(|| ValidationError::new("id", "is required"))?;
        let id = serde_json::from_value(id).map_err(|e| ValidationError::new("id", e.to_string()))?;
        Ok(Self { id, patch: parse(args)? })
    }
}

/// Arguments of `list_memories` (the query parameters of `GET /memories`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only this type.
    #[serde(rename = "type", default)]
    pub memory_type: Option<MemoryType>,
    /// Every one of these tags must be present.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only memories of this scope (e.g. `user:42`).
    #[serde(default)]
    pub scope: Option<String>,
    /// `active` (default), `archived` or `all`.
    #[serde(default)]
    pub status: ListStatus,
    /// `created` (default), `updated` or `accessed`.
    #[serde(default)]
    pub sort: ListSort,
    /// `desc` (default) or `asc`.
    #[serde(default)]
    pub order: ListOrder,
    /// 1–100, default 20.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (same `sort` and `order`).
    #[serde(default)]
    pub cursor: Option<String>,
}

impl From<ListArgs> for ListRequest {
    fn from(a: ListArgs) -> Self {
        ListRequest {
            memory_type: a.memory_type,
            tags: a.tags,
            scope: a.scope,
            status: a.status,
            sort: a.sort,
            order: a.order,
            limit: a.limit,
            cursor: a.cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wm_domain::memory::CreateMemoryRequest;

    fn object(v: serde_json::Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn mistakes_name_the_field() {
        let e = parse::<CreateMemoryRequest>(object(json!({"content": "x"}))).unwrap_err();
        assert_eq!((e.field.as_str(), e.message.as_str()), ("title", "is required"));
        let e = parse::<CreateMemoryRequest>(object(json!({"title": 5, "content": "x"}))).unwrap_err();
        assert_eq!(e.field, "title");
        let e = parse::<CreateMemoryRequest>(object(json!({"title": "t", "content": "x", "colour": 1}))).unwrap_err();
        assert_eq!(e.field, "colour");
        assert!(e.message.contains("expected"), "{}", e.message);
        let e =
            parse::<CreateMemoryRequest>(object(json!({"title": "t", "content": "x", "tags": ["a", 3]}))).unwrap_err();
        assert_eq!(e.field, "tags[1]");
        let e = parse::<ListArgs>(object(json!({"type": "medium_term"}))).unwrap_err();
        assert_eq!(e.field, "type");
        let e = parse::<IdArgs>(object(json!({"id": "nope"}))).unwrap_err();
        assert_eq!(e.field, "id");
    }

    #[test]
    fn update_takes_id_out() {
        let a = UpdateArgs::parse(object(json!({"id": Uuid::nil(), "title": "new"}))).unwrap();
        assert_eq!(a.patch.title.as_deref(), Some("new"));
        assert_eq!(UpdateArgs::parse(object(json!({"title": "x"}))).unwrap_err().field, "id");
        assert_eq!(UpdateArgs::parse(object(json!({"id": Uuid::nil(), "bogus": 1}))).unwrap_err().field, "bogus");
    }
}
