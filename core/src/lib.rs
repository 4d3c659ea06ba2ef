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

/// Pages are parsed on one runtime thread and dropped on another (the
/// caller's); glibc's malloc spent half an export's CPU on that pattern
/// (cross-thread frees, `malloc_consolidate` after every large body) and
/// mimalloc makes the export 1.5-2x faster (issue 14). Only with the `mimalloc`
/// feature, which the bindings and the CLI turn on.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod batch;
mod checkpoint;
mod client;
mod error;
mod export;
// Below error.rs and routing.rs, which both use it.
mod hints;
// Entry points for cargo-fuzz and the corpus replay test; behind a feature
// so they do not ship in every wheel and addon.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod json;
mod messages;
mod model;
pub mod observe;
mod pacing;
mod paging;
mod raw_object;
mod retry;
pub mod routing;
mod secret;
pub mod surface;
mod transport;
mod usage;
pub mod validate;
pub mod webhooks;

pub use batch::{BatchOp, BatchValue, MAX_BATCH_SIZE};
pub use client::{
    Client, ClientBuilder, ConstantValue, ACCESS_TOKEN_ENV, DEFAULT_API_VERSION, DEFAULT_BASE_URL,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_RETRY_BASE_DELAY, DEFAULT_TIMEOUT, INSTAGRAM_INBOX_APP_ID, PAGE_INBOX_APP_ID, SHARED_CONSTANTS,
};
pub use error::{
    Error, ErrorClass, ErrorField, ErrorKind, FieldType, GraphError, InputProblem, Result, TransportFailure,
    DEFAULT_ERROR_KIND, ERROR_CLASSES,
};
pub use export::{Export, ExportOptions, ExportStats, DEFAULT_EXPORT_CALLS_PER_SECOND};
pub use messages::{Message, MessagePager, MessagesQuery, DEFAULT_MESSAGE_FIELDS, MAX_INLINE_MESSAGES};
pub use model::{App, Conversation, Folder, Page, Participant, Platform, ThreadOwner};
pub use paging::{ConversationPager, ConversationsQuery, PageItem, Pager, Position, DEFAULT_FIELDS, MAX_EMPTY_PAGES};
pub use raw_object::RawObject;
pub use routing::FeatureStatus;
pub use secret::hmac_sha256_hex;
pub use usage::{BusinessUseCaseUsage, Usage, UsageFigures};
pub use validate::MAX_RETRIES_LIMIT;
