//! JSON Schemas of tool inputs and outputs, taken from the same `utoipa` descriptions the REST
//! API publishes in its OpenAPI document (one source of truth), with every `$ref` inlined so
//! a client needs no `components` section to read them.

use rmcp::model::JsonObject;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// How deep references may nest before inlining stops (our types are not recursive).
const MAX_DEPTH: usize = 16;

/// The schema of `T` as a self-contained JSON Schema object (no root description: the tool
/// has its own).
pub fn of<T: ToSchema>() -> JsonObject {
    let mut named = Vec::new();
    T::schemas(&mut named);
    let defs: HashMap<String, Value> =
        named.into_iter().map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default())).collect();
    let mut root = serde_json::to_value(T::schema()).unwrap_or_default();
    inline(&mut root, &defs, 0);
    let mut object = match root {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    object.remove("description");
    object.entry("type").or_insert_with(|| Value::String("object".into()));
    object
}

/// [`of`], shared.
pub fn arc<T: ToSchema>() -> Arc<JsonObject> {
    Arc::new(of::<T>())
}

/// The schema of `T` with a required `id` property (the memory a tool acts on) added first.
pub fn with_id<T: ToSchema>() -> Arc<JsonObject> {
    let mut object = of::<T>();
    let mut properties = Map::new();
    properties.insert("id".into(), id_property());
    if let Some(Value::Object(rest)) = object.remove("properties") {
        properties.extend(rest);
    }
    object.insert("properties".into(), Value::Object(properties));
    let mut required = vec![Value::String("id".into())];
    if let Some(Value::Array(rest)) = object.remove("required") {
        required.extend(rest);
    }
    object.insert("required".into(), Value::Array(required));
    Arc::new(object)
}

/// The `id` argument: a memory's UUID.
pub fn id_property() -> Value {
    serde_json::json!({ "type": "string", "format": "uuid", "description": "The memory's id (UUID)." })
}

/// Replaces every `{"$ref": "#/components/schemas/X", ...}` with X's schema (siblings of the
/// reference, such as its description, win).
fn inline(value: &mut Value, defs: &HashMap<String, Value>, depth: usize) {
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| defs.get(name));
            if let Some(def) = target.filter(|_| depth < MAX_DEPTH) {
                let mut def = def.clone();
                inline(&mut def, defs, depth + 1);
                map.remove("$ref");
                if let Value::Object(def) = def {
                    for (k, v) in def {
                        map.entry(k).or_insert(v);
                    }
                }
                return;
            }
            for v in map.values_mut() {
                inline(v, defs, depth);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inline(v, defs, depth)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wm_domain::memory::{CreateMemoryRequest, Memory, UpdateMemoryRequest};

    #[test]
    fn references_are_inlined() {
        let text = Value::Object(of::<Memory>()).to_string();
        assert!(!text.contains("$ref"), "{text}");
        assert!(text.contains("short_term") && text.contains("archived"), "{text}");
    }

    #[test]
    fn inputs_keep_required_and_closed_objects() {
        let create = of::<CreateMemoryRequest>();
        assert_eq!(create["type"], "object");
        assert_eq!(create["required"], serde_json::json!(["title", "content"]));
        assert_eq!(create["additionalProperties"], false);
        let update = with_id::<UpdateMemoryRequest>();
        assert_eq!(update["required"], serde_json::json!(["id"]));
        assert!(update["properties"]["add_tags"].is_object());
    }
}
