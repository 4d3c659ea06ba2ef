//! A stateful local Graph API for the Messenger thread-control and conversations endpoints.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use messenger_handover_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("{} serves page {}", emu.url(), emu.page_id());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What it serves
//! - Thread control (`thread_owner`, pass/take/request/release/extend), `secondary_receivers`,
//!   the Send API's thread rule (`POST /{page}/messages`), and `GET /{page}?fields=messaging_feature_status`.
//! - [`Mode::Routing`]: Conversation Routing with [`EmulatorConfig::default_app`] (or none: take
//!   answers #27, every app may answer an idle thread); threads go idle after 24 h of emulated
//!   time without a user message, or once released; request on an idle thread passes it;
//!   `thread_owner` tells the owner and the default app who owns a thread, others only until when.
//! - `GET /{page}/conversations` (folders, platforms, cursors, Graph's field expansion such as
//!   `messages.limit(3){id,from,message}`), `GET /{conversation-id}` and
//!   `GET /{conversation-id}/messages` (newest first, details for the 20 most recent only).
//! - Batch requests: `POST /` or `/{version}/` with `batch=[{"method","relative_url","body"}]`,
//!   at most 50, each operation authenticated, rate-limited, faulted and logged on its own.
//!
//! # Admin API (`/_emulator/`, unauthenticated, not logged)
//! | route | what |
//! |---|---|
//! | `POST reset`, `GET state`, `GET info` | back to the start; threads, counters, clock; the start line |
//! | `GET/DELETE requests`, `PUT requests/capacity {"capacity"}` | the request log, a ring ([`Emulator::set_log_capacity`]) |
//! | `POST/DELETE faults` | [`FaultSpec`]s; `match.in_batch`/`match.batch_index` and [`FaultAction::NullItem`] reach batch operations |
//! | `GET/PUT rate_limit`, `GET/PUT pacing {"conversations_per_second"}` | [`RateLimitConfig`]; the conversations edge's pacing ([`Emulator::set_conversations_pacing`]) |
//! | `PUT webhooks/{app} {"url"}`, `POST messages {"psid","text"}` | callbacks; a user message |
//! | `GET/PUT primary_receiver {"app"}`, `GET/PUT default_app {"app" or null}` | roles ([`Emulator::set_primary_receiver`], [`Emulator::set_default_app`]) |
//! | `GET/PUT feature_status` | [`FeatureStatus`] ([`Emulator::set_feature_status`]) |
//! | `GET clock`, `POST clock {"advance_secs"}` | the emulated clock ([`Emulator::advance_clock`]) |
//! | `GET conversations`, `POST conversations/bump {"id","text"}` | the inbox, newest first; a thread moves to the top ([`Emulator::bump_conversation`]) |

mod admin;
mod batch;
mod config;
mod conversations;
mod error;
mod faults;
mod fields;
mod graph;
mod graph_time;
mod handler;
mod ratelimit;
mod request;
mod response;
pub mod scripted;
mod server;
mod state;
mod webhooks;

pub use config::{
    AppCredentials, AppRole, Apps, EmulatorConfig, FeatureStatus, Mode, RateLimitConfig, INSTAGRAM_INBOX_APP_ID,
    MAX_CONVERSATIONS, PAGE_ID, PAGE_INBOX_APP_ID, PRIMARY_APP_ID, SECONDARY_APP_ID,
};
pub use faults::{FaultAction, FaultMatch, FaultSpec};
pub use state::LoggedRequest;
pub use webhooks::sign as sign_webhook_body;

use serde_json::{json, Value};
use server::ServerHandle;
use state::Shared;
use std::io;
use std::sync::Arc;

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl Emulator {
    /// Binds 127.0.0.1:`config.port` (0: a free port) and serves on the current tokio runtime.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        config.check().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // Webhooks are spawned on this runtime, from any thread.
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let listener = server::bind(config.port).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://127.0.0.1:{}", addr.port());
        let shared = Arc::new(Shared::new(config, url, runtime));
        let for_server = shared.clone();
        let timeout = std::time::Duration::from_millis(shared.config.header_read_timeout_ms.max(1));
        let server = server::spawn(listener, timeout, move |req, conn| handler::handle(for_server.clone(), req, conn))?;
        Ok(Emulator { shared, server })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }

    pub fn page_id(&self) -> &str {
        &self.shared.page_id
    }

    pub fn apps(&self) -> &Apps {
        &self.shared.apps
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// The start line: `{"url", "page_id", "apps": {"primary": {app_id, token, secret}, ...}}`.
    pub fn info(&self) -> Value {
        info_json(&self.shared)
    }

    /// The most recent requests, oldest first (at most `log_capacity` of them).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// How many requests the log keeps from now on (the oldest are dropped first).
    pub fn set_log_capacity(&self, capacity: usize) {
        self.shared.lock().set_log_capacity(capacity);
    }

    pub fn clear_request_log(&self) {
        self.shared.lock().log.clear();
    }

    pub fn inject_fault(&self, fault: FaultSpec) {
        self.shared.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    pub fn set_rate_limit(&self, cfg: RateLimitConfig) {
        self.shared.lock().limiter.set_config(cfg);
    }

    /// Conversation Routing's default app, or `None` for none (take then answers
    /// #27 and every app may answer an idle thread). No webhook is sent: use
    /// `set_primary_receiver` to move the role the way a Page admin does.
    pub fn set_default_app(&self, app: Option<AppRole>) {
        self.shared.lock().default_app = app;
    }

    /// What `GET /{page}?fields=messaging_feature_status` answers from now on.
    pub fn set_feature_status(&self, status: FeatureStatus) {
        self.shared.lock().feature_status = status;
    }

    /// The conversations edge's pacing: at most `per_second` calls in any one
    /// second per Page, 613 beyond (0: off). Graph allows about 2.
    pub fn set_conversations_pacing(&self, per_second: u32) {
        let mut inner = self.shared.lock();
        inner.limiter.conversations_per_second = per_second;
        inner.limiter.reset_counters();
    }

    /// Threads, faults, log and counters back to the start; tokens and webhooks kept.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Threads and owners (and more), for tests.
    pub fn state(&self) -> Value {
        self.shared.state_json()
    }

    /// Registers (or with `None` removes) an app's webhook callback URL.
    pub fn set_webhook(&self, app: AppRole, url: Option<String>) {
        set_webhook(&self.shared, app, url);
    }

    /// A user message arrives on `psid`; returns once the webhooks were delivered (or failed).
    pub async fn simulate_message(&self, psid: &str, text: &str) -> io::Result<()> {
        simulate(&self.shared, psid, text).await
    }

    /// A Page admin makes `app` the primary receiver (the default app in
    /// Routing mode); returns once the `app_roles` webhooks were delivered.
    pub async fn set_primary_receiver(&self, app: AppRole) {
        set_primary_receiver(&self.shared, app).await;
    }

    /// Every conversation, newest first: `[{id, folder, platform, updated_time, message_count, user_id}]`.
    pub fn conversations(&self) -> Value {
        conversation_list(&self.shared)
    }

    /// A new message arrives in conversation `id`: it becomes the newest and
    /// moves to the top of its folder (a walk in progress sees it again).
    /// Returns its summary, or `None` for an unknown id.
    pub fn bump_conversation(&self, id: &str, text: Option<&str>) -> Option<Value> {
        bump_conversation(&self.shared, id, text)
    }

    /// The emulated clock (thread expirations, message times).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.lock().now()
    }

    /// Moves the emulated clock forward by `secs` (never back): expirations
    /// are tested without waiting.
    pub fn advance_clock(&self, secs: i64) -> Result<chrono::DateTime<chrono::Utc>, String> {
        advance_clock(&self.shared, secs)?;
        Ok(self.now())
    }

    /// Stops accepting, gives open connections a moment, then stops.
    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.shared.url)
            .field("page_id", &self.shared.page_id)
            .field("mode", &self.shared.config.mode)
            .finish_non_exhaustive()
    }
}

fn info_json(shared: &Shared) -> Value {
    json!({
        "url": shared.url,
        "page_id": shared.page_id,
        "apps": shared.apps,
    })
}

fn conversation_list(shared: &Shared) -> Value {
    Value::Array(shared.lock().conversations.iter().map(conversations::summary).collect())
}

fn bump_conversation(shared: &Shared, id: &str, text: Option<&str>) -> Option<Value> {
    let mut inner = shared.lock();
    let now = inner.now();
    conversations::bump(&mut inner.conversations, id, now, text.unwrap_or("New message"))
}

/// At most ten years at a time; the clock never goes back.
fn advance_clock(shared: &Shared, secs: i64) -> Result<Value, String> {
    if !(0..=10 * 365 * 86_400).contains(&secs) {
        return Err("advance_secs must be between 0 and 315360000".to_string());
    }
    let mut inner = shared.lock();
    inner.clock_offset += chrono::Duration::seconds(secs);
    Ok(json!({"now": graph_time::format_time(inner.now())}))
}

fn set_webhook(shared: &Shared, app: AppRole, url: Option<String>) {
    let mut inner = shared.lock();
    match url.filter(|u| !u.trim().is_empty()) {
        Some(u) => inner.webhooks.insert(app, u),
        None => inner.webhooks.remove(&app),
    };
}

async fn set_primary_receiver(shared: &Shared, app: AppRole) {
    let deliveries = {
        let mut inner = shared.lock();
        graph::set_primary_receiver(shared, &mut inner, app)
    };
    deliver(shared, deliveries).await;
}

async fn deliver(shared: &Shared, deliveries: Vec<webhooks::Delivery>) {
    let sends = deliveries.into_iter().map(|d| webhooks::send(shared.http.clone(), d));
    futures_util::future::join_all(sends).await;
}

async fn simulate(shared: &Shared, psid: &str, text: &str) -> io::Result<()> {
    if psid.is_empty() || !psid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "psid must be all digits"));
    }
    let deliveries = {
        let mut inner = shared.lock();
        graph::user_message(shared, &mut inner, psid, text)
    };
    deliver(shared, deliveries).await;
    Ok(())
}
