//! Lenient JSON readers for the wire quirks the Graph API is known for:
//! ids and codes that arrive as numbers or as strings.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// An id that may arrive as a JSON number or string; always a string out.
///
/// The number is read from its raw text, never through `f64`, so every digit
/// of an id larger than 2^53 (or than u64) is kept. A fractional, negative
/// or exponent-form number is not an id: refused, never rounded. Works with
/// any serde_json deserializer (bytes or a `Value`; from a `Value` an
/// integer past u64 has already become a float and is refused), not inside
/// `#[serde(untagged)]` or `flatten`, which buffer numbers as floats.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    id_from_raw(raw.get()).map_err(D::Error::custom)
}

pub(crate) fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    raw.map(|r| id_from_raw(r.get()).map_err(D::Error::custom)).transpose()
}

/// An id held in a parsed `Value`: a string, or a whole non-negative number.
/// `None` when absent or null.
pub(crate) fn id_from_value(value: Option<&Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(u) => Ok(Some(u.to_string())),
            // Negative, fractional, or past u64 (already a float: digits lost).
            None => Err(not_an_id(&n.to_string())),
        },
        Some(_) => Err("an id is neither a string nor a number".to_owned()),
    }
}

fn id_from_raw(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text).map_err(|e| format!("an id is not a valid string: {e}"));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text.to_owned());
    }
    if text.starts_with('-') || text.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(not_an_id(text));
    }
    Err("an id is neither a string nor a number".to_owned())
}

fn not_an_id(number: &str) -> String {
    // A number from the response is no secret, but bound what is echoed.
    let shown: String = number.chars().take(40).collect();
    format!("an id must be a whole non-negative number, not {shown}")
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
    if let Some(t) = value.as_str().and_then(graph_utc) {
        return Some(t);
    }
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

/// Graph's own shape for UTC, `2026-11-21T10:00:00+0000`, read straight
/// from its digits: chrono's format-string parser cost about as much as the
/// rest of building a conversation. `None` for any other shape (the general
/// reader then decides).
fn graph_utc(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let b = s.as_bytes();
    let shape = b.len() == 24
        && &b[19..] == b"+0000"
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?.and_utc())
}

pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(d)?.as_ref().and_then(parse_time))
}

/// A serde_json error as text that repeats nothing of the document: its
/// data errors quote the offending value (`invalid type: string "..."`),
/// and a response may have echoed the access token into any string.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if !matches!(e.classify(), serde_json::error::Category::Data) || text.starts_with("missing field") {
        // Syntax and EOF messages name a position only; a missing field is ours.
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match open {
            Some(q) if c == q => {
                out.push_str("...");
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Owner {
        #[serde(deserialize_with = "id_string")]
        app_id: String,
    }

    fn app_id(json: &str) -> Result<String, String> {
        serde_json::from_str::<Owner>(json).map(|o| o.app_id).map_err(|e| e.to_string())
    }

    #[test]
    fn ids_keep_every_digit() {
        assert_eq!(app_id(r#"{"app_id":18446744073709551615}"#), Ok("18446744073709551615".to_owned()));
        assert_eq!(app_id(r#"{"app_id":263902037430900123456789}"#), Ok("263902037430900123456789".to_owned()));
        assert_eq!(app_id(r#"{"app_id":"007"}"#), Ok("007".to_owned()));
        let from_value: Result<Owner, _> =
            serde_json::from_value(serde_json::json!({"app_id": 18446744073709551615u64}));
        assert_eq!(from_value.map(|o| o.app_id).ok(), Some("18446744073709551615".to_owned()));
    }

    #[test]
    fn fractional_or_negative_ids_are_refused() {
        for bad in ["1.5", "-5", "1e3", "true", "null", "{}"] {
            assert!(app_id(&format!(r#"{{"app_id":{bad}}}"#)).is_err(), "{bad}");
        }
        assert!(id_from_value(Some(&serde_json::json!(1.5))).is_err());
        assert!(id_from_value(Some(&serde_json::json!(-2))).is_err());
        assert_eq!(id_from_value(Some(&serde_json::json!(7))), Ok(Some("7".to_owned())));
    }

    #[test]
    fn graph_utc_agrees_with_chrono() {
        use chrono::DateTime;
        for t in ["2026-11-21T10:00:00+0000", "2024-02-29T23:59:59+0000", "1999-12-31T00:00:00+0000"] {
            let slow = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok().map(|t| t.with_timezone(&chrono::Utc));
            assert_eq!(graph_utc(t), slow, "{t}");
            assert!(slow.is_some());
        }
        // Other shapes fall through to the general reader.
        for t in [
            "2026-11-21T10:00:00+0100",
            "2026-11-21T10:00:00Z",
            "1700000000",
            "2026-02-30T10:00:00+0000",
            "2026-1a-21T10:00:00+0000",
        ] {
            assert_eq!(graph_utc(t), None, "{t}");
        }
        assert!(parse_time(&serde_json::json!("2026-11-21T10:00:00+0100")).is_some());
        assert!(parse_time(&serde_json::json!("2026-02-30T10:00:00+0000")).is_none());
    }

    #[test]
    fn describe_repeats_no_value() {
        let e = serde_json::from_str::<Vec<u32>>(r#"["EAAGsecret"]"#).err();
        let text = e.as_ref().map(describe).unwrap_or_default();
        assert!(text.contains("invalid type") && !text.contains("EAAGsecret"), "{text}");
    }
}
