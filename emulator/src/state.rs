//! Mutable emulator state (threads, log, faults, counters) and the shared handle around it.

use crate::config::{AppRole, Apps, EmulatorConfig, FeatureStatus, Mode, PAGE_ID};
use crate::conversations::{self, Conversation};
use crate::faults::FaultQueue;
use crate::graph_time::format_time;
use crate::ratelimit::RateLimiter;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Who owns one user's thread, and until when (routing mode).
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub owner: Option<AppRole>,
    pub expiration: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingRequest {
    pub psid: String,
    pub requested_owner_app_id: String,
    pub metadata: Option<String>,
}

/// One Graph request as the emulator saw it. Tokens are never stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoggedRequest {
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// Decoded query; `access_token` is replaced by `"<redacted>"`.
    pub query: BTreeMap<String, String>,
    pub token_in_query: bool,
    /// "header", "query" or null: where the token came from.
    pub auth: Option<&'static str>,
    pub body: Option<Value>,
    pub app: Option<AppRole>,
    /// 0 when the connection was dropped without a response, or while a
    /// `delay` fault still holds the answer back.
    pub status: u16,
    pub error_code: Option<i64>,
    pub fault: Option<String>,
    /// The operation's position when it came inside a batch request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_index: Option<usize>,
}

#[derive(Debug)]
pub struct Inner {
    pub threads: BTreeMap<String, Thread>,
    pub pending_requests: Vec<PendingRequest>,
    /// A ring: at most `log_capacity` entries, the oldest dropped first.
    pub log: VecDeque<LoggedRequest>,
    pub log_capacity: usize,
    /// Entries dropped from the ring since the last reset.
    pub log_dropped: u64,
    pub seq: u64,
    pub trace: u64,
    pub faults: FaultQueue,
    pub limiter: RateLimiter,
    pub webhooks: BTreeMap<AppRole, String>,
    /// The app with the primary receiver role (Handover) or the default app
    /// (Routing); every other app is a secondary receiver. A Page admin can
    /// change it: see `set_primary_receiver`.
    pub primary: AppRole,
    /// Newest first; a conversation that gets a message moves to the top.
    pub conversations: Vec<Conversation>,
    /// Conversation Routing's default app (routing mode only); `None`: none set.
    pub default_app: Option<AppRole>,
    pub feature_status: FeatureStatus,
    /// How far the emulated clock runs ahead of the wall clock (advanced by tests).
    pub clock_offset: chrono::Duration,
}

/// Everything a request handler needs; cloned as an `Arc`.
#[derive(Debug)]
pub struct Shared {
    pub config: EmulatorConfig,
    pub apps: Apps,
    pub page_id: String,
    pub url: String,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(config: EmulatorConfig, url: String, runtime: tokio::runtime::Handle) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().unwrap_or_default();
        Shared {
            apps: Apps::generate(),
            page_id: PAGE_ID.to_string(),
            url,
            http,
            runtime,
            inner: Mutex::new(Inner {
                threads: BTreeMap::new(),
                pending_requests: Vec::new(),
                log: VecDeque::new(),
                log_capacity: config.log_capacity,
                log_dropped: 0,
                seq: 0,
                trace: 0,
                faults: FaultQueue::default(),
                limiter: RateLimiter::new(config.rate_limit.clone(), config.conversations_per_second),
                webhooks: BTreeMap::new(),
                primary: AppRole::Primary,
                conversations: conversations::generate(config.conversations),
                clock_offset: chrono::Duration::zero(),
                default_app: config.default_app,
                feature_status: config.feature_status,
            }),
            config,
        }
    }

    /// A poisoned lock only means a handler panicked; the data is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Back to the start: threads, faults, log, counters and the configured rate limit.
    /// Webhook registrations are kept: they are set up once by a test harness.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.threads.clear();
        inner.pending_requests.clear();
        inner.log.clear();
        inner.log_dropped = 0;
        inner.log_capacity = self.config.log_capacity;
        inner.seq = 0;
        inner.faults.clear();
        inner.limiter.set_config(self.config.rate_limit.clone());
        inner.limiter.conversations_per_second = self.config.conversations_per_second;
        inner.primary = AppRole::Primary;
        inner.conversations = conversations::generate(self.config.conversations);
        inner.clock_offset = chrono::Duration::zero();
        inner.default_app = self.config.default_app;
        inner.feature_status = self.config.feature_status;
    }

    pub fn state_json(&self) -> Value {
        let mut inner = self.lock();
        let mode = self.config.mode;
        let now = inner.now();
        let psids: Vec<String> = inner.threads.keys().cloned().collect();
        let mut threads = serde_json::Map::new();
        for psid in psids {
            let t = inner.thread(&psid, mode, now).clone();
            threads.insert(
                psid,
                json!({
                    "owner": t.owner.map(AppRole::app_id),
                    "owner_role": t.owner,
                    "expiration": t.expiration.map(format_time),
                }),
            );
        }
        json!({
            "page_id": self.page_id,
            "mode": mode,
            "threads": threads,
            "pending_requests": inner.pending_requests,
            "faults_pending": inner.faults.len(),
            "rate_limit": inner.limiter.config,
            "conversations_per_second": inner.limiter.conversations_per_second,
            "calls_in_window": inner.limiter.calls_in_window(),
            "webhooks": inner.webhooks,
            "primary_receiver": inner.primary,
            "default_app": inner.default_app,
            "feature_status": inner.feature_status,
            "requests_logged": inner.log.len(),
            "log_capacity": inner.log_capacity,
            "requests_dropped": inner.log_dropped,
            "now": format_time(now),
        })
    }
}

impl Inner {
    /// The emulated time: the wall clock plus what tests advanced it by.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// The thread of `psid`, created on first sight; an expired one reads as idle.
    pub fn thread(&mut self, psid: &str, mode: Mode, now: DateTime<Utc>) -> &mut Thread {
        let t = self.threads.entry(psid.to_string()).or_insert_with(|| Thread {
            owner: match mode {
                Mode::Handover => Some(self.primary),
                Mode::Routing => None,
            },
            expiration: None,
        });
        if mode == Mode::Routing && t.expiration.is_some_and(|e| e <= now) {
            t.owner = None;
            t.expiration = None;
        }
        t
    }

    pub fn next_trace(&mut self) -> String {
        self.trace += 1;
        crate::error::fbtrace_id(self.trace)
    }

    pub fn push_log(&mut self, mut entry: LoggedRequest) {
        self.seq += 1;
        entry.seq = self.seq;
        if self.log_capacity == 0 {
            self.log_dropped += 1;
            return;
        }
        while self.log.len() >= self.log_capacity {
            self.log.pop_front();
            self.log_dropped += 1;
        }
        self.log.push_back(entry);
    }

    pub fn set_log_capacity(&mut self, capacity: usize) {
        self.log_capacity = capacity;
        while self.log.len() > capacity {
            self.log.pop_front();
            self.log_dropped += 1;
        }
    }
}
