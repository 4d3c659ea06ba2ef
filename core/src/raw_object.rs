//! The whole Graph object behind a typed result, kept as the JSON text it
//! came as and parsed only when someone asks for it. Building a map of every
//! item of every page was a third of a page's parse (issue 14); most callers
//! read the typed fields and never look at it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object's text: always a valid object, paging URLs (which carry the
/// access token) already removed. Serializes as the object itself.
#[derive(Clone)]
pub struct RawObject(Box<RawValue>);

impl RawObject {
    /// The object's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The object as a map (parsed now, on every call).
    pub fn to_map(&self) -> Map<String, Value> {
        // The text was an object when it was kept: this cannot fail.
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// One member, parsed; `None` when absent.
    pub fn get(&self, key: &str) -> Option<Value> {
        let mut members: BTreeMap<String, &RawValue> = serde_json::from_str(self.0.get()).ok()?;
        members.remove(key).and_then(|v| serde_json::from_str(v.get()).ok())
    }

    /// Sets one member (replacing the one of that name). Members come out in
    /// key order, as they would from a map.
    pub fn insert(&mut self, key: &str, value: Value) {
        self.insert_all([(key, value)]);
    }

    /// [`insert`](Self::insert) for several members, the text rebuilt once.
    pub fn insert_all<'k>(&mut self, new: impl IntoIterator<Item = (&'k str, Value)>) {
        // A `Value` always serializes.
        let new: Vec<(&str, Box<RawValue>)> =
            new.into_iter().map(|(k, v)| (k, serde_json::value::to_raw_value(&v).unwrap_or_else(|_| null()))).collect();
        // This text holds no paging URL; if the new members hold none either,
        // neither does the result, which is kept without another look (the
        // export inserts into every item, many with an expansion's `paging`).
        let clean = new.iter().all(|(k, v)| *k != "paging" && !may_hold_paging(v.get()));
        // The members' text is borrowed, copied once into the new text.
        let mut members: BTreeMap<String, &RawValue> = serde_json::from_str(self.0.get()).unwrap_or_default();
        for (key, value) in &new {
            members.insert((*key).to_owned(), value);
        }
        *self = match clean {
            true => RawObject(serde_json::value::to_raw_value(&members).unwrap_or_else(|_| empty())),
            false => RawObject::from_text(serde_json::to_string(&members).unwrap_or_else(|_| "{}".to_owned())),
        };
    }

    /// `text` kept as it came, when it can be: an object on one line that
    /// holds no paging URL. `None`: the caller, which parses the item into a
    /// map anyway, builds it from that map ([`from_map_mut`](Self::from_map_mut)):
    /// one parse, and the map's URLs dropped, always one line.
    pub(crate) fn as_is(text: &RawValue) -> Option<RawObject> {
        let object = text.get().trim_start().starts_with('{');
        (object && !RawObject::needs_map(text)).then(|| RawObject(text.to_owned()))
    }

    /// Whether `text` cannot be kept as it is (several lines, or paging URLs maybe).
    fn needs_map(text: &RawValue) -> bool {
        let t = text.get();
        t.contains(['\n', '\r']) || may_hold_paging(t)
    }

    /// The map's text, its paging URLs dropped from the map itself first (its
    /// owner reads typed fields from it next, which must not hold them either).
    pub(crate) fn from_map_mut(map: &mut Map<String, Value>) -> RawObject {
        drop_paging_urls(map);
        RawObject(serde_json::value::to_raw_value(map).unwrap_or_else(|_| empty()))
    }

    fn from_text(text: String) -> RawObject {
        match RawValue::from_string(text) {
            Ok(text) if !may_hold_paging(text.get()) => RawObject(text),
            Ok(text) => RawObject::from_map_mut(&mut serde_json::from_str(text.get()).unwrap_or_default()),
            Err(_) => RawObject(empty()),
        }
    }
}

/// A member named `paging`, maybe with URLs (a string value "paging" also
/// matches: it only costs the map path).
const PAGING: &str = "\"paging\"";

/// Whether `text` may hold a member named `paging`: as such, or spelled with
/// an escaped letter (`"pag\u0069ng"`: every letter of it is `\u006_` or
/// `\u007_`), which a map reads as `paging` too.
fn may_hold_paging(text: &str) -> bool {
    text.contains(PAGING) || text.contains("\\u006") || text.contains("\\u007")
}

/// Graph puts the access token in every `paging.next`/`previous` URL, nested
/// expansions (`messages{...}`) included: they never reach `raw`, where a
/// caller would print or store them. Cursors stay.
pub(crate) fn drop_paging_urls(object: &mut Map<String, Value>) {
    for (key, value) in object.iter_mut() {
        if let (Value::Object(paging), "paging") = (&mut *value, key.as_str()) {
            paging.remove("next");
            paging.remove("previous");
        }
        drop_paging_urls_in(value);
    }
}

/// [`drop_paging_urls`] in every object `value` holds, however deep in lists
/// (a list of lists too, which the first version skipped).
fn drop_paging_urls_in(value: &mut Value) {
    match value {
        Value::Object(inner) => drop_paging_urls(inner),
        Value::Array(items) => items.iter_mut().for_each(drop_paging_urls_in),
        _ => {}
    }
}

fn null() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}

fn empty() -> Box<RawValue> {
    // `{}` is JSON: the fallback is never taken.
    RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| null())
}

impl Default for RawObject {
    fn default() -> Self {
        RawObject(empty())
    }
}

/// Equal when they hold the same members, whatever the order or spacing.
impl PartialEq for RawObject {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() || self.to_map() == other.to_map()
    }
}

impl fmt::Debug for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl From<Map<String, Value>> for RawObject {
    fn from(mut map: Map<String, Value>) -> Self {
        RawObject::from_map_mut(&mut map)
    }
}

impl From<RawObject> for Map<String, Value> {
    fn from(raw: RawObject) -> Self {
        raw.to_map()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawObject {
        // As a page's item is kept: as it came, else through a map.
        let value = RawValue::from_string(text.to_owned()).unwrap();
        RawObject::as_is(&value).unwrap_or_else(|| RawObject::from_map_mut(&mut serde_json::from_str(text).unwrap()))
    }

    #[test]
    fn keeps_the_text_and_parses_on_demand() {
        let r = raw(r#"{"id":"t_1","snippet":"hé"}"#);
        assert_eq!(r.as_str(), r#"{"id":"t_1","snippet":"hé"}"#);
        assert_eq!(r.get("snippet"), Some(Value::from("hé")));
        assert_eq!(r.get("missing"), None);
        assert_eq!(r.to_map().len(), 2);
        assert_eq!(serde_json::to_string(&r).unwrap(), r.as_str());
    }

    #[test]
    fn insert_replaces_and_orders() {
        let mut r = raw(r#"{"z":1,"folder":"x"}"#);
        r.insert("folder", Value::from("inbox"));
        r.insert("a", Value::Null);
        assert_eq!(r.as_str(), r#"{"a":null,"folder":"inbox","z":1}"#);
    }

    /// Paging URLs carry the token: none survives, however the object is made
    /// or added to; cursors stay.
    #[test]
    fn never_holds_a_paging_url() {
        let url = "https://graph.facebook.com/v23.0/t_1/messages?access_token=SECRET&after=c2";
        let paging = serde_json::json!({"cursors": {"after": "c2"}, "next": url, "previous": url});
        let nested = format!(r#"{{"id":"t_1","messages":{{"data":[{{"id":"m_1"}}],"paging":{paging}}}}}"#);
        let mut made = vec![
            raw(&nested),
            RawObject::from(serde_json::from_str::<Map<String, Value>>(&nested).unwrap()),
            RawObject::from_map_mut(&mut serde_json::from_str(&nested).unwrap()),
        ];
        let mut r = raw(r#"{"id":"t_2"}"#);
        r.insert("paging", paging.clone());
        made.push(r);
        // Deep: a list of lists, and a paging object inside another's.
        let deep =
            format!(r#"{{"a":[[{{"paging":{paging}}}]],"paging":{{"next":"{url}","inner":{{"paging":{paging}}}}}}}"#);
        made.push(raw(&deep));
        made.push(RawObject::from(serde_json::from_str::<Map<String, Value>>(&deep).unwrap()));
        // A member name with an escaped letter is still `paging` (and one
        // that reads `PAGING` is not Graph's, kept as it came).
        for (name, is_paging) in [(r"pag\u0069ng", true), (r"\u0070aging", true), (r"PAGIN\u0047", false)] {
            let kept = raw(&format!(r#"{{"id":"t_e","{name}":{{"next":"{url}"}}}}"#));
            assert_eq!(kept.as_str().contains("SECRET"), !is_paging, "{}", kept.as_str());
        }
        let mut r = raw(r#"{"id":"t_3"}"#);
        r.insert_all([("folder", Value::from("inbox")), ("messages", serde_json::json!({"paging": paging}))]);
        made.push(r);
        // Already clean, and a plain member added: the cursors are kept.
        let mut r = raw(&nested);
        r.insert_all([("folder", Value::from("inbox")), ("platform", Value::from("messenger"))]);
        made.push(r);
        for r in &made {
            assert!(!r.as_str().contains("SECRET") && !r.as_str().contains("\"next\""), "{}", r.as_str());
        }
        assert!(made.iter().filter(|r| r.as_str().contains(r#""after":"c2""#)).count() == made.len());
    }

    #[test]
    fn is_one_line() {
        assert_eq!(raw("{\n  \"a\": \"x y\"\n}").as_str(), r#"{"a":"x y"}"#);
    }

    #[test]
    fn keeps_only_an_object_as_is() {
        assert!(RawObject::as_is(&RawValue::from_string("[1]".to_owned()).unwrap()).is_none());
        assert_eq!(raw(r#"{"a":1}"#), raw(r#"{ "a" : 1 }"#));
    }
}
