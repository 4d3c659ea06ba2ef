//! A client for the Messenger Platform's thread-control API (the Handover
//! Protocol and Conversation Routing) and the Page conversations edge.
//!
//! ```no_run
//! # async fn run() -> Result<(), messenger_handover::Error> {
//! use messenger_handover::{Client, ConversationsQuery, Folder};
//! use futures_util::StreamExt;
//!
//! let client = Client::builder("PAGE_ACCESS_TOKEN").build()?;
//! if let Some(owner) = client.thread_owner("1234567890").await? {
//!     println!("owned by {}", owner.app_id);
//! }
//! client.pass_thread_control_to_page_inbox("1234567890", Some("needs a human")).await?;
//! let mut inbox = Box::pin(client.conversations(ConversationsQuery::new().folder(Folder::Inbox))?.into_stream());
//! while let Some(conv) = inbox.next().await {
//!     println!("{}", conv?.id);
//! }
//! # Ok(()) }
//! ```

mod batch;
mod client;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod json;
mod model;
mod paging;
mod retry;
pub mod routing;
mod secret;
mod transport;
mod usage;
pub mod validate;
pub mod webhooks;

pub use batch::{BatchOp, BatchValue, MAX_BATCH_SIZE};
pub use client::{
    Client, ClientBuilder, DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT, INSTAGRAM_INBOX_APP_ID, PAGE_INBOX_APP_ID,
};
pub use error::{Error, ErrorKind, GraphError, Result, TransportFailure};
pub use model::{App, Conversation, Folder, Page, Participant, Platform, ThreadOwner};
pub use paging::{ConversationPager, ConversationsQuery};
pub use routing::FeatureStatus;
pub use secret::hmac_sha256_hex;
pub use usage::{BusinessUseCaseUsage, Usage, UsageFigures};
