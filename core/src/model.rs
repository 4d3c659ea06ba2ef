//! The typed results of the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::raw_object::RawObject;

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
    /// The whole Graph object (paging URLs removed), as its JSON text.
    pub raw: RawObject,
}

impl Conversation {
    /// Builds a conversation from its Graph JSON object (as kept in `raw`).
    pub fn from_json(value: Value) -> Result<Self> {
        let Value::Object(mut object) = value else {
            return Err(Error::protocol("a conversation is not a JSON object", None));
        };
        let mut c = Conversation::empty(RawObject::from_map_mut(&mut object));
        let mut id = None;
        // One pass over what came, rather than a lookup per typed field (most
        // of which a short `fields` list never asks for).
        for (key, v) in object {
            match key.as_str() {
                "id" => id = Some(v),
                _ => c.set(&key, v),
            }
        }
        c.with_id(id.as_ref())
    }

    /// Builds a conversation from one item of a page, as the page's text: the
    /// typed fields are read from their own text, the rest is not parsed at all.
    pub(crate) fn from_raw(text: &RawValue) -> Result<Self> {
        // The map path decides (and words the error) for anything unusual:
        // not an object, a member twice. It also takes an item whose `raw`
        // must be rebuilt from a map anyway (an expansion's paging URLs),
        // which it then parses once, not twice.
        let fast = RawObject::as_is(text)
            .and_then(|raw| serde_json::from_str::<KnownFields>(text.get()).ok().map(|known| (raw, known)));
        let Some((raw, known)) = fast else {
            let value = serde_json::from_str(text.get())
                .map_err(|e| Error::protocol(format!("a conversation is not JSON: {e}"), None))?;
            return Conversation::from_json(value);
        };
        let mut c = Conversation::empty(raw);
        let parse = |r: &RawValue| serde_json::from_str::<Value>(r.get()).unwrap_or(Value::Null);
        let id = known.id.map(parse);
        for (key, member) in known.members() {
            if let Some(r) = member {
                c.set(key, parse(r));
            }
        }
        c.with_id(id.as_ref())
    }

    fn empty(raw: RawObject) -> Self {
        Conversation {
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
            raw,
        }
    }

    fn with_id(mut self, id: Option<&Value>) -> Result<Self> {
        // The one reader of "an id that arrives as a number or a string".
        self.id = match crate::json::id_from_value(id) {
            Ok(Some(id)) => id,
            Ok(None) => return Err(Error::protocol("a conversation has no id", None)),
            Err(e) => return Err(Error::protocol(format!("a conversation's id: {e}"), None)),
        };
        Ok(self)
    }
}

/// Each typed member of a conversation object, named once: it gives
/// `Conversation::set` (the field from the member's JSON value) and
/// `KnownFields` (the members as their text, `None` when absent or null, for
/// the page fast path; serde skips the others unparsed).
macro_rules! typed_members {
    ($($name:ident: |$c:ident, $v:ident| $set:expr;)+) => {
        impl Conversation {
            /// The typed field `key` names, from its JSON value (others are ignored).
            fn set(&mut self, key: &str, v: Value) {
                match key {
                    $(stringify!($name) => {
                        let ($c, $v) = (&mut *self, v);
                        $set;
                    })+
                    _ => {}
                }
            }
        }

        #[derive(Deserialize)]
        struct KnownFields<'a> {
            #[serde(borrow)]
            id: Option<&'a RawValue>,
            $(
                #[serde(borrow)]
                $name: Option<&'a RawValue>,
            )+
        }

        impl<'a> KnownFields<'a> {
            /// Every member but the id, by its Graph name.
            fn members(&self) -> impl Iterator<Item = (&'static str, Option<&'a RawValue>)> {
                [$((stringify!($name), self.$name)),+].into_iter()
            }
        }
    };
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

typed_members! {
    updated_time: |c, v| c.updated_time = crate::json::parse_time(&v);
    link: |c, v| c.link = text(v);
    snippet: |c, v| c.snippet = text(v);
    message_count: |c, v| c.message_count = v.as_u64();
    unread_count: |c, v| c.unread_count = v.as_u64();
    participants: |c, v| c.participants = participants(Some(&v));
    senders: |c, v| c.senders = participants(Some(&v));
    can_reply: |c, v| c.can_reply = v.as_bool();
    is_subscribed: |c, v| c.is_subscribed = v.as_bool();
    scoped_thread_key: |c, v| c.scoped_thread_key = text(v);
    folder: |c, v| c.folder = text(v);
    is_owner: |c, v| c.is_owner = v.as_bool();
    platform: |c, v| c.platform = text(v);
    messages: |c, v| c.messages = Message::inline_list(v);
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
    /// The whole Graph object (paging URLs removed), as its JSON text.
    pub raw: RawObject,
}

impl Message {
    /// Builds a message from its Graph JSON object (as kept in `raw`).
    pub fn from_json(value: Value) -> Result<Self> {
        let Value::Object(mut object) = value else {
            return Err(Error::protocol("a message is not a JSON object", None));
        };
        // An expansion's `paging.next` (`attachments{...}`) carries the token:
        // not in the typed `attachments` either (dropped from the map itself).
        let raw = RawObject::from_map_mut(&mut object);
        Message::from_object(&object, raw)
    }

    /// Builds a message from one item of a page, as the page's text (kept as `raw`).
    pub(crate) fn from_raw(text: &RawValue) -> Result<Self> {
        let value = serde_json::from_str(text.get())
            .map_err(|e| Error::protocol(format!("a message is not JSON: {e}"), None))?;
        let Value::Object(mut object) = value else {
            return Err(Error::protocol("a message is not a JSON object", None));
        };
        let raw = match RawObject::as_is(text) {
            Some(raw) => raw,
            None => RawObject::from_map_mut(&mut object),
        };
        Message::from_object(&object, raw)
    }

    fn from_object(object: &Map<String, Value>, raw: RawObject) -> Result<Self> {
        let id = match object.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(Error::protocol("a message has no id", None)),
        };
        Ok(Message {
            created_time: object.get("created_time").and_then(crate::json::parse_time),
            text: object.get("message").and_then(Value::as_str).map(str::to_owned),
            attachments: object.get("attachments").cloned(),
            sender: object.get("from").and_then(participant),
            recipients: participants(object.get("to")),
            id,
            raw,
        })
    }

    /// The messages Graph inlined in a conversation (`messages{...}`).
    pub(crate) fn inline_list(value: Value) -> Vec<Message> {
        match value {
            Value::Object(mut m) => match m.remove("data") {
                Some(Value::Array(list)) => list.into_iter().filter_map(|m| Message::from_json(m).ok()).collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// Refuses a `messages=N` outside 1..=20 (the documented detail limit).
pub(crate) fn check_inline_limit(n: u32) -> Result<()> {
    if n == 0 || n > MAX_INLINE_MESSAGES {
        return Err(Error::out_of_range(
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

    /// The page path (`from_raw`, typed fields read from their own text) and
    /// the map path (`from_json`) agree on every input, odd ones included, and
    /// neither keeps a paging URL (it carries the token) in `raw`.
    #[test]
    fn conversation_from_text_is_from_json() {
        let texts = [
            r#"{"id":"t_1","updated_time":"2026-02-25T06:13:20+0000","snippet":"hé 👍"}"#,
            r#"{"id":12345678901234567,"message_count":3,"unread_count":"2","can_reply":true,"is_owner":null}"#,
            r#"{"id":"t_2","snippet":5,"link":null,"folder":"inbox","platform":"messenger","extra":{"a":[1,2]}}"#,
            r#"{"id":"t_3","participants":{"data":[{"id":"1","name":"Ann"},{"id":2}]},"senders":{"data":[{"id":"1"}]}}"#,
            r#"{"id":"t_4","messages":{"data":[{"id":"m_1","message":"hi","from":{"id":"1"}}],
                "paging":{"cursors":{"after":"c"},"next":"https://graph.facebook.com/x?access_token=SECRET"}}}"#,
            r#"{"id":"t_5","snippet":"first","snippet":"second"}"#,
            r#"{"id":-1}"#,
            r#"{"snippet":"no id"}"#,
            r#"{"id":1.5}"#,
            r#"["not an object"]"#,
            r#"{ "id" : "t_6" ,
                 "scoped_thread_key" : "k" }"#,
        ];
        for text in texts {
            let raw = RawValue::from_string(text.to_owned()).map_err(|e| e.to_string());
            let from_raw = raw.and_then(|r| Conversation::from_raw(&r).map_err(|e| e.to_string()));
            let from_json = serde_json::from_str::<Value>(text)
                .map_err(|e| e.to_string())
                .and_then(|v| Conversation::from_json(v).map_err(|e| e.to_string()));
            assert_eq!(from_raw, from_json, "{text}");
            if let Ok(c) = from_raw {
                assert!(!c.raw.as_str().contains("SECRET") && !c.raw.as_str().contains('\n'), "{text}");
            }
        }
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
