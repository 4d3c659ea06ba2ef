//! The typed results of the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The app that controls a thread, and until when (Conversation Routing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadOwner {
    /// Always a string, even when the Graph API sends a number. Empty when
    /// the Graph API does not say which app: under Conversation Routing only
    /// the owner and the default app are told, others learn the expiration.
    pub app_id: String,
    pub expiration: Option<DateTime<Utc>>,
}

/// An app with a role on the Page (a secondary receiver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    #[serde(deserialize_with = "crate::json::id_string")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A person (or the Page) taking part in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    #[serde(deserialize_with = "crate::json::id_string")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A conversation of the Page's inbox. The typed fields are those DESIGN
/// names; `raw` keeps the whole object for anything else requested.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: String,
    pub updated_time: Option<DateTime<Utc>>,
    pub link: Option<String>,
    pub snippet: Option<String>,
    pub message_count: Option<u64>,
    pub unread_count: Option<u64>,
    pub participants: Vec<Participant>,
    pub senders: Vec<Participant>,
    pub can_reply: Option<bool>,
    pub is_subscribed: Option<bool>,
    pub scoped_thread_key: Option<String>,
    pub folder: Option<String>,
    /// Whether the app calling owns the thread (Conversation Routing).
    pub is_owner: Option<bool>,
    /// The platform walked (filled in by the export).
    pub platform: Option<String>,
    /// The newest messages, when asked for (`messages=N` or a `messages{...}` field).
    pub messages: Vec<Message>,
    pub raw: Map<String, Value>,
}

impl Conversation {
    /// Builds a conversation from its Graph JSON object (as kept in `raw`).
    pub fn from_json(value: Value) -> Result<Self> {
        let Value::Object(mut raw) = value else {
            return Err(Error::protocol("a conversation is not a JSON object", None));
        };
        drop_paging_urls(&mut raw);
        let mut c = Conversation {
            id: String::new(),
            updated_time: None,
            link: None,
            snippet: None,
            message_count: None,
            unread_count: None,
            participants: Vec::new(),
            senders: Vec::new(),
            can_reply: None,
            is_subscribed: None,
            scoped_thread_key: None,
            folder: None,
            is_owner: None,
            platform: None,
            messages: Vec::new(),
            raw: Map::new(),
        };
        let mut id = None;
        // One pass over what came, rather than a lookup per typed field (most
        // of which a short `fields` list never asks for).
        for (key, v) in &raw {
            let text = || v.as_str().map(str::to_owned);
            match key.as_str() {
                "id" => id = Some(v),
                "updated_time" => c.updated_time = crate::json::parse_time(v),
                "link" => c.link = text(),
                "snippet" => c.snippet = text(),
                "message_count" => c.message_count = v.as_u64(),
                "unread_count" => c.unread_count = v.as_u64(),
                "participants" => c.participants = participants(Some(v)),
                "senders" => c.senders = participants(Some(v)),
                "can_reply" => c.can_reply = v.as_bool(),
                "is_subscribed" => c.is_subscribed = v.as_bool(),
                "scoped_thread_key" => c.scoped_thread_key = text(),
                "folder" => c.folder = text(),
                "is_owner" => c.is_owner = v.as_bool(),
                "platform" => c.platform = text(),
                "messages" => c.messages = Message::inline_list(Some(v)),
                _ => {}
            }
        }
        // The one reader of "an id that arrives as a number or a string".
        c.id = match crate::json::id_from_value(id) {
            Ok(Some(id)) => id,
            Ok(None) => return Err(Error::protocol("a conversation has no id", None)),
            Err(e) => return Err(Error::protocol(format!("a conversation's id: {e}"), None)),
        };
        c.raw = raw;
        Ok(c)
    }
}

/// The people of a `{"data": [...]}` list, as `Vec<Participant>` would
/// deserialise them (all or nothing: one malformed entry, none), without
/// serde's detour through a raw JSON text per id.
pub(crate) fn participants(value: Option<&Value>) -> Vec<Participant> {
    match value.and_then(|v| v.get("data")) {
        Some(Value::Array(list)) => list.iter().map(participant).collect::<Option<Vec<_>>>().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// One person, or `None` where `Participant::deserialize` would fail.
pub(crate) fn participant(value: &Value) -> Option<Participant> {
    let Value::Object(m) = value else { return None };
    let id = crate::json::id_from_value(m.get("id")).ok().flatten()?;
    let text = |k: &str| match m.get(k) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    };
    Some(Participant { id, name: text("name")?, email: text("email")? })
}

/// `"a, b, c"` at compile time.
macro_rules! one_of {
    ($first:literal $(, $rest:literal)*) => { concat!($first $(, ", ", $rest)*) };
}
pub(crate) use one_of;

/// Graph puts the access token in every `paging.next`/`previous` URL, nested
/// expansions (`messages{...}`) included: they never reach `raw`, where a
/// caller would print or store them. Cursors stay.
fn drop_paging_urls(object: &mut Map<String, Value>) {
    for (key, value) in object.iter_mut() {
        match value {
            Value::Object(inner) if key == "paging" => {
                inner.remove("next");
                inner.remove("previous");
            }
            Value::Object(inner) => drop_paging_urls(inner),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(inner) = item {
                        drop_paging_urls(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

macro_rules! wire_enum {
    ($doc:literal $name:ident, $arg:literal { $($variant:ident => $wire:literal),+ $(,)? }) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Its docstring, for the generated Python and Node enums.
            pub const DOC: &'static str = $doc;
            /// The value the Graph API expects.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    // The value is not repeated: it could be a token passed
                    // in the wrong place.
                    _ => Err(Error::invalid(
                        $arg,
                        concat!("must be one of ", $crate::model::one_of!($($wire),+)),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    "A folder of the Page inbox."
    Folder, "folder" { Inbox => "inbox", Other => "other", PageDone => "page_done", Spam => "spam" }
);
wire_enum!(
    "The platform of a conversation."
    Platform, "platform" { Messenger => "messenger", Instagram => "instagram" }
);

/// One page of a paged edge: its items and the cursor to resume after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The `after` cursor of this page, kept even on the last page.
    pub after: Option<String>,
    /// Whether the Graph API announced a further page (`paging.next`).
    pub has_next: bool,
}

// ---- messages (the messages edge and a conversation's inline `messages{...}`) ----

/// Graph returns the details (sender, text, ...) of only the 20 most recent
/// messages of a conversation; older ones come back as bare ids. This is the
/// documented limit ("Limitations", Conversations API for Messenger Platform,
/// https://developers.facebook.com/docs/messenger-platform/conversations),
/// hence the cap on `messages=N` of the conversations edge.
pub const MAX_INLINE_MESSAGES: u32 = 20;

/// The fields a Message is built from, asked for when the caller names none.
pub const DEFAULT_MESSAGE_FIELDS: &[&str] = &["id", "created_time", "from", "to", "message"];

/// A message of a conversation. `raw` keeps the whole Graph object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    pub created_time: Option<DateTime<Utc>>,
    /// Graph's `from`.
    pub sender: Option<Participant>,
    /// Graph's `to`.
    pub recipients: Vec<Participant>,
    /// Graph's `message`: the text, when it has one.
    pub text: Option<String>,
    /// Graph's `attachments`, as sent.
    pub attachments: Option<Value>,
    pub raw: Map<String, Value>,
}

impl Message {
    /// Builds a message from its Graph JSON object (as kept in `raw`).
    pub fn from_json(value: Value) -> Result<Self> {
        let Value::Object(raw) = value else {
            return Err(Error::protocol("a message is not a JSON object", None));
        };
        let id = match raw.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(Error::protocol("a message has no id", None)),
        };
        let sender = raw.get("from").and_then(participant);
        let recipients = participants(raw.get("to"));
        Ok(Message {
            created_time: raw.get("created_time").and_then(crate::json::parse_time),
            text: raw.get("message").and_then(Value::as_str).map(str::to_owned),
            attachments: raw.get("attachments").cloned(),
            sender,
            recipients,
            id,
            raw,
        })
    }

    /// The messages Graph inlined in a conversation (`messages{...}`).
    pub(crate) fn inline_list(value: Option<&Value>) -> Vec<Message> {
        value
            .and_then(|v| v.get("data"))
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(|m| Message::from_json(m.clone()).ok()).collect())
            .unwrap_or_default()
    }
}

/// Refuses a `messages=N` outside 1..=20 (the documented detail limit).
pub(crate) fn check_inline_limit(n: u32) -> Result<()> {
    if n == 0 || n > MAX_INLINE_MESSAGES {
        return Err(Error::invalid(
            "messages",
            format!("must be between 1 and {MAX_INLINE_MESSAGES} (Graph details only the 20 newest messages)"),
        ));
    }
    Ok(())
}

/// The field expansion that inlines the `n` newest messages of each conversation.
pub(crate) fn inline_expansion(n: u32) -> String {
    format!("messages.limit({n}){{{}}}", DEFAULT_MESSAGE_FIELDS.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn participants_read_as_serde_would() {
        let serde = |v: &Value| v.get("data").and_then(|d| Vec::<Participant>::deserialize(d).ok()).unwrap_or_default();
        let cases = [
            json!({"data": [{"id": "1", "name": "Ann", "email": "a@x"}, {"id": 2, "extra": true}]}),
            json!({"data": [{"id": "1", "name": null}]}),
            json!({"data": [{"id": "1"}, {"name": "no id"}]}),
            json!({"data": [{"id": 1.5}]}),
            json!({"data": [{"id": -3}]}),
            json!({"data": [{"id": null}]}),
            json!({"data": [{"id": "1", "name": 7}]}),
            json!({"data": ["1"]}),
            json!({"data": {}}),
            json!({}),
        ];
        for v in &cases {
            assert_eq!(participants(Some(v)), serde(v), "{v}");
        }
        assert_eq!(participants(Some(&cases[0])).len(), 2);
        assert_eq!(participants(None), Vec::new());
    }

    #[test]
    fn message_from_graph_json() {
        let m = Message::from_json(serde_json::json!({
            "id": "m_1", "created_time": "2026-11-22T12:00:00+0000", "message": "hi",
            "from": {"id": "123", "name": "Ann"}, "to": {"data": [{"id": "456"}]}
        }));
        let m = m.ok();
        assert_eq!(m.as_ref().and_then(|m| m.text.as_deref()), Some("hi"));
        assert_eq!(m.as_ref().and_then(|m| m.sender.as_ref()).map(|p| p.id.as_str()), Some("123"));
        assert_eq!(m.as_ref().map(|m| m.recipients.len()), Some(1));
        assert!(Message::from_json(serde_json::json!({"message": "no id"})).is_err());
    }

    #[test]
    fn inline_limit() {
        assert!(check_inline_limit(0).is_err());
        assert!(check_inline_limit(21).is_err());
        assert!(check_inline_limit(20).is_ok());
        assert_eq!(inline_expansion(3), "messages.limit(3){id,created_time,from,to,message}");
    }
}
