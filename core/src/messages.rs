//! The messages of a conversation: `GET /{ver}/{conversation-id}/messages`,
//! paged exactly like conversations (cursor only, one page prefetched,
//! resume point exact to the item).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::Participant;
use crate::paging::{PageItem, Pager};
use crate::validate;

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
        let sender = raw.get("from").and_then(crate::model::participant);
        let recipients = crate::model::participants(raw.get("to"));
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

impl PageItem for Message {
    fn from_json(value: Value) -> Result<Self> {
        Message::from_json(value)
    }
    fn item_id(&self) -> &str {
        &self.id
    }
}

/// The messages of a conversation.
pub type MessagePager = Pager<Message>;

/// What to list from a conversation's messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagesQuery {
    /// Graph fields (expansion syntax accepted); default [`DEFAULT_MESSAGE_FIELDS`].
    pub fields: Vec<String>,
    /// Items per page (the Graph `limit`), 1 to 100.
    pub page_size: Option<u32>,
    /// Resume from a pager's `after()` of an earlier run (exact to the item).
    pub after: Option<String>,
}

impl MessagesQuery {
    pub fn new() -> Self {
        Self::default()
    }
    crate::paging::paged_query_setters!();
}

impl Client {
    /// A pager over the messages of a conversation, newest first. Arguments
    /// are checked now; nothing is sent until the first page is asked for.
    pub fn messages(&self, conversation_id: &str, query: MessagesQuery) -> Result<MessagePager> {
        validate::id("conversation_id", conversation_id)?;
        if matches!(conversation_id, "." | "..") || conversation_id.contains('\\') {
            return Err(Error::invalid("conversation_id", "must not be a dot segment or hold a backslash"));
        }
        let fields: Vec<String> = if query.fields.is_empty() {
            DEFAULT_MESSAGE_FIELDS.iter().map(|f| (*f).to_owned()).collect()
        } else {
            query.fields
        };
        for f in &fields {
            validate::field("fields", f)?;
        }
        let mut params = vec![("fields", fields.join(","))];
        if let Some(n) = query.page_size {
            validate::page_size(n)?;
            params.push(("limit", n.to_string()));
        }
        // A leading `/`: the edge hangs off the conversation, not the Page.
        Pager::open(self.clone(), format!("/{conversation_id}/messages"), params, query.after, None)
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
