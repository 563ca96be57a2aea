//! The opaque list cursor: base64url (no padding) of `v1:<sort><order>:<secs>.<nanos>:<uuid>`,
//! the sort timestamp and id of the last memory shown. It also records the sort field and
//! direction, so a cursor replayed with another ordering is refused instead of skipping rows.

use super::list::{ListOrder, ListSort};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use wm_domain::ValidationError;

/// A decoded keyset position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Field the page was sorted by.
    pub sort: ListSort,
    /// Direction of the page.
    pub order: ListOrder,
    /// Sort timestamp of the last row shown.
    pub at: DateTime<Utc>,
    /// Id of the last row shown (tie-breaker).
    pub id: Uuid,
}

fn sort_char(s: ListSort) -> char {
    match s {
        ListSort::Created => 'c',
        ListSort::Updated => 'u',
        ListSort::Accessed => 'a',
    }
}

fn order_char(o: ListOrder) -> char {
    match o {
        ListOrder::Asc => 'a',
        ListOrder::Desc => 'd',
    }
}

impl Cursor {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        let raw = format!(
            "v1:{}{}:{}.{:09}:{}",
            sort_char(self.sort),
            order_char(self.order),
            self.at.timestamp(),
            self.at.timestamp_subsec_nanos(),
            self.id.simple()
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Parses a cursor made by [`Cursor::encode`]; errors name the field `cursor`.
    pub fn decode(s: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("cursor", "is not a cursor returned by this API");
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = raw.split(':');
        let (Some("v1"), Some(kind), Some(at), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let mut k = kind.chars();
        let sort = match k.next() {
            Some('c') => ListSort::Created,
            Some('u') => ListSort::Updated,
            Some('a') => ListSort::Accessed,
            _ => return Err(bad()),
        };
        let order = match (k.next(), k.next()) {
            (Some('a'), None) => ListOrder::Asc,
            (Some('d'), None) => ListOrder::Desc,
            _ => return Err(bad()),
        };
        let (secs, nanos) = at.split_once('.').ok_or_else(bad)?;
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let nanos: u32 = nanos.parse().map_err(|_| bad())?;
        let at = DateTime::from_timestamp(secs, nanos).ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Self { sort, order, at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = Cursor {
            sort: ListSort::Accessed,
            order: ListOrder::Asc,
            at: DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap(),
            id: Uuid::now_v7(),
        };
        let s = c.encode();
        assert!(s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'), "{s}");
        assert_eq!(Cursor::decode(&s).unwrap(), c);
        for junk in ["", "x", "!!!", &URL_SAFE_NO_PAD.encode("v2:cd:1.0:abc"), &URL_SAFE_NO_PAD.encode("v1:zz:1.0:x")] {
            assert_eq!(Cursor::decode(junk).unwrap_err().field, "cursor", "{junk}");
        }
    }
}
