//! The OpenAPI document describes every memory route: tag, bearer security, the error
//! envelope on error statuses, and only schemas that exist.

use serde_json::Value;

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_memory_route_is_documented() {
    let doc = serde_json::to_value(wm_http::api().1).unwrap();
    let routes = [
        ("/api/v1/memories", "post"),
        ("/api/v1/memories", "get"),
        ("/api/v1/memories/batch", "post"),
        ("/api/v1/memories/{id}", "get"),
        ("/api/v1/memories/{id}", "patch"),
        ("/api/v1/memories/{id}", "put"),
        ("/api/v1/memories/{id}", "delete"),
        ("/api/v1/memories/{id}/restore", "post"),
        ("/api/v1/search", "post"),
        ("/api/v1/context", "post"),
        ("/api/v1/consolidate", "post"),
        ("/api/v1/consolidations", "get"),
        ("/api/v1/tags", "get"),
        ("/api/v1/stats", "get"),
        ("/api/v1/export", "get"),
        ("/api/v1/import", "post"),
    ];
    for (path, method) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert_eq!(op["tags"], serde_json::json!(["memories"]), "{method} {path}");
        assert!(op["security"].to_string().contains("bearer"), "{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.contains_key("401"), "{method} {path} documents 401");
        for (status, r) in responses {
            if status.starts_with('4') {
                assert!(
                    r.to_string().contains("#/components/schemas/ErrorBody"),
                    "{method} {path} {status} uses ErrorBody"
                );
            }
        }
    }
    let list_params = doc["paths"]["/api/v1/memories"]["get"]["parameters"].to_string();
    for p in ["\"type\"", "\"tag\"", "\"scope\"", "\"status\"", "\"sort\"", "\"order\"", "\"limit\"", "\"cursor\""] {
        assert!(list_params.contains(p), "{p} in {list_params}");
    }
    assert!(doc["paths"]["/api/v1/import"]["post"]["requestBody"]["content"]["application/zip"].is_object());
    assert!(doc["paths"]["/api/v1/export"]["get"]["responses"]["200"]["content"]["application/zip"].is_object());
    assert!(doc["tags"].as_array().unwrap().iter().any(|t| t["name"] == "memories"));
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd ref {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "dangling {r}");
    }
}
