//! The messages of a conversation: `GET /{ver}/{conversation-id}/messages`,
//! paged exactly like conversations (cursor only, one page prefetched,
//! resume point exact to the item).

use serde_json::value::RawValue;

use crate::client::Client;
use crate::error::{Error, Result};
pub use crate::model::{Message, DEFAULT_MESSAGE_FIELDS, MAX_INLINE_MESSAGES};
use crate::paging::{PageItem, Pager};
use crate::validate;

impl PageItem for Message {
    fn from_raw(text: &RawValue) -> Result<Self> {
        Message::from_raw(text)
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
