//! Helpers shared by the `limits_*` suites: plans, users on a plan, header values.
#![allow(dead_code)]

use crate::common::{Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `PUT /api/v1/admin/plans/{name}` with these limits (all features on); asserts 200.
pub async fn set_plan(app: &TestApp, name: &str, per_minute: u64, daily: u64, monthly: u64) {
    set_plan_full(app, name, json!({ "per_minute": per_minute, "daily": daily, "monthly": monthly, "memories": 1000, "storage_bytes": 1_000_000 })).await;
}

/// `PUT /api/v1/admin/plans/{name}` with `body`; asserts 200 and returns the plan.
pub async fn set_plan_full(app: &TestApp, name: &str, body: Value) -> Value {
    let r = app.send(Method::PUT, &format!("/api/v1/admin/plans/{name}"), Some(&app.admin_key), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// A new user on `plan`, with one key: `(user id, key)`.
pub async fn user_on_plan(app: &TestApp, email: &str, plan: &str) -> (String, String) {
    let (id, key) = app.user(email).await;
    move_to_plan(app, &id, plan).await;
    (id, key)
}

/// `PATCH /api/v1/admin/users/{id}` `{"plan": plan}`; asserts 200.
pub async fn move_to_plan(app: &TestApp, id: &str, plan: &str) {
    let path = format!("/api/v1/admin/users/{id}");
    let r = app.send(Method::PATCH, &path, Some(&app.admin_key), Some(json!({ "plan": plan }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Another key for user `id` (issued by an admin of `app`).
pub async fn another_key(app: &TestApp, id: &str) -> String {
    let r = app.post(&format!("/api/v1/admin/users/{id}/keys"), &app.admin_key, json!({ "name": "second" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["key"].as_str().unwrap().to_owned()
}

/// A header as an integer (panics when absent or not a number).
pub fn header_u64(r: &Reply, name: &str) -> u64 {
    let v = r.headers.get(name).unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers));
    v.to_str().unwrap().parse().unwrap_or_else(|e| panic!("{name}: {v:?}: {e}"))
}

/// A header as text (panics when absent).
pub fn header(r: &Reply, name: &str) -> String {
    r.headers.get(name).unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers)).to_str().unwrap().to_owned()
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}
