//! Lenient JSON readers for the wire quirks the Graph API is known for:
//! ids and codes that arrive as numbers or as strings.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrString {
    Int(i64),
    Float(f64),
    Str(String),
}

/// An id that may arrive as a JSON number or string; always a string out.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match NumOrString::deserialize(d)? {
        NumOrString::Int(n) => Ok(n.to_string()),
        // Large ids as floats lose digits; print without a fraction at least.
        NumOrString::Float(f) => Ok(format!("{f:.0}")),
        NumOrString::Str(s) => Ok(s),
    }
}

pub(crate) fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<NumOrString>::deserialize(d).map(|o| {
        o.map(|v| match v {
            NumOrString::Int(n) => n.to_string(),
            NumOrString::Float(f) => format!("{f:.0}"),
            NumOrString::Str(s) => s,
        })
    })
}

/// A code that may arrive as a number or numeric string; anything else is `None`.
pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A Graph time: `2026-11-21T10:00:00+0000`, RFC 3339, or Unix seconds.
pub(crate) fn parse_time(value: &serde_json::Value) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, TimeZone, Utc};
    match value {
        serde_json::Value::String(s) => DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z")
            .or_else(|_| DateTime::parse_from_rfc3339(s))
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| s.parse::<i64>().ok().and_then(|n| Utc.timestamp_opt(n, 0).single())),
        serde_json::Value::Number(n) => n.as_i64().and_then(|n| Utc.timestamp_opt(n, 0).single()),
        _ => None,
    }
}

pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(d)?.as_ref().and_then(parse_time))
}
