//! Small helpers to read JSON by dotted path, lenient on optional fields and precise on errors.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::event::ParseError;

/// Parses the body as a JSON object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Value, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    if value.is_object() { Ok(value) } else { Err(ParseError::InvalidJson("top level is not an object".into())) }
}

/// The value at a dotted path (`data.object.id`); null counts as absent.
pub(crate) fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| v.get(key)).filter(|v| !v.is_null())
}

/// A non-empty string at `path`.
pub(crate) fn opt_str(root: &Value, path: &str) -> Option<String> {
    get(root, path).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The first non-empty string among `paths`.
pub(crate) fn first_str(root: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| opt_str(root, p))
}

/// A required non-empty string; the error names `path`.
pub(crate) fn req_str(root: &Value, path: &str) -> Result<String, ParseError> {
    match get(root, path) {
        None => Err(missing(path)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(missing(path)),
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(invalid(path, "expected a string")),
    }
}

/// An id that may be a plain string or an expanded object with an `id` (Stripe "expandable").
pub(crate) fn id_of(root: &Value, path: &str) -> Option<String> {
    match get(root, path)? {
        Value::String(_) => opt_str(root, path),
        Value::Object(_) => opt_str(root, &format!("{path}.id")),
        _ => None,
    }
}

/// The first id found among `paths` (each a string or an object with `id`).
pub(crate) fn first_id(root: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| id_of(root, p))
}

/// An optional boolean; present with another type is an error.
pub(crate) fn opt_bool(root: &Value, path: &str) -> Result<Option<bool>, ParseError> {
    match get(root, path) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(path, "expected a boolean")),
    }
}

/// An optional integer; present with another type is an error.
pub(crate) fn opt_i64(root: &Value, path: &str) -> Result<Option<i64>, ParseError> {
    match get(root, path) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid(path, "expected an integer")),
    }
}

/// An optional time: unix seconds (number) or an RFC 3339 string.
pub(crate) fn opt_time(root: &Value, path: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
    match get(root, path) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(Some)
            .ok_or_else(|| invalid(path, "expected unix seconds")),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| invalid(path, "expected an RFC 3339 timestamp")),
        Some(_) => Err(invalid(path, "expected a timestamp")),
    }
}

/// An optional time in unix milliseconds.
pub(crate) fn opt_time_ms(root: &Value, path: &str) -> Result<Option<DateTime<Utc>>, ParseError> {
    match opt_i64(root, path)? {
        None => Ok(None),
        Some(ms) => {
            DateTime::from_timestamp_millis(ms).map(Some).ok_or_else(|| invalid(path, "timestamp out of range"))
        }
    }
}

/// Unix seconds to a time, naming `path` when out of range.
pub(crate) fn time_from_secs(secs: i64, path: &str) -> Result<DateTime<Utc>, ParseError> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| invalid(path, "timestamp out of range"))
}

/// A deterministic fallback event id for payloads that carry none: `sha256:<hex of body>`.
/// Identical retries deduplicate; it is only used where the provider sends no id at all.
pub(crate) fn body_digest_id(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// Pushes `value` into `refs` when present and not already there.
pub(crate) fn push_ref(refs: &mut Vec<String>, value: Option<String>) {
    if let Some(v) = value.filter(|v| !refs.contains(v)) {
        refs.push(v);
    }
}

pub(crate) fn missing(path: &str) -> ParseError {
    ParseError::MissingField(path.to_owned())
}

pub(crate) fn invalid(path: &str, reason: &'static str) -> ParseError {
    ParseError::InvalidField { field: path.to_owned(), reason }
}
