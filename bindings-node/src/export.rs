//! Messages and the inbox export (issue 12) for JavaScript: the Message
//! object, `client.messages()`, and `NativeExport`, the core's export behind
//! a lock. The walk, dedupe, pacing and the resumable writer are the core's.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use messenger_handover::{self as core, ExportOptions, ExportStats, Folder, MessagesQuery, Platform};
use napi::bindgen_prelude::{Function, Latin1String, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi::Status;
use napi_derive::napi;
use serde::Serialize;

use crate::cancel::{CancelToken, Canceller};
use crate::client::{whole, whole_u32, NativeClient};
use crate::convert::Conversation;
use crate::errors::{self, from_core, state, throw};
use crate::pager::NativeMessagePager;

/// What to list from a conversation's messages; every field optional.
#[napi(object)]
pub struct MessagesOptions {
    pub fields: Option<Vec<String>>,
    pub page_size: Option<f64>,
    pub after: Option<String>,
}

/// What to export; absent fields take DESIGN's defaults.
#[napi(object)]
pub struct ExportOptionsJs {
    pub folders: Option<Vec<String>>,
    pub platforms: Option<Vec<String>>,
    pub fields: Option<Vec<String>>,
    pub messages: Option<f64>,
    pub since: Option<DateTime<Utc>>,
    pub checkpoint: Option<String>,
    /// Absent: the core's default (2 calls per second).
    pub max_calls_per_second: Option<f64>,
    /// True turns the pacing off (the wrapper's `maxCallsPerSecond: null`).
    pub pacing_off: Option<bool>,
    pub page_size: Option<f64>,
}

/// What an export did so far (earlier runs included when resumed).
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportStatsJs {
    pub calls: f64,
    pub pages: f64,
    pub conversations: f64,
    pub duplicates_dropped: f64,
    pub time_waited_ms: f64,
}

impl From<&ExportStats> for ExportStatsJs {
    fn from(s: &ExportStats) -> Self {
        ExportStatsJs {
            calls: s.calls as f64,
            pages: s.pages as f64,
            conversations: s.conversations as f64,
            duplicates_dropped: s.duplicates_dropped as f64,
            time_waited_ms: s.time_waited.as_secs_f64() * 1000.0,
        }
    }
}

/// `NativeExport.nextBatch`'s JSON text; items have the pager's item shape.
#[derive(Serialize)]
struct BatchJson {
    items: Vec<Conversation>,
    stats: Vec<ExportStatsJs>,
}

#[napi]
impl NativeClient {
    /// A pager over a conversation's messages; arguments are checked now.
    #[napi]
    pub fn messages(
        &self,
        env: &Env,
        conversation_id: String,
        options: Option<MessagesOptions>,
    ) -> napi::Result<NativeMessagePager> {
        self.message_pager(conversation_id, options).map_err(|e| throw(env, e))
    }

    /// An export; arguments are checked now, nothing is sent yet.
    #[napi]
    pub fn export_conversations(&self, env: &Env, options: Option<ExportOptionsJs>) -> napi::Result<NativeExport> {
        self.export(options).map_err(|e| throw(env, e))
    }
}

impl NativeClient {
    fn message_pager(
        &self,
        conversation_id: String,
        options: Option<MessagesOptions>,
    ) -> errors::Result<NativeMessagePager> {
        let client = self.client()?;
        let mut q = MessagesQuery::new();
        if let Some(o) = options {
            if let Some(f) = o.fields {
                q = q.fields(f);
            }
            if let Some(n) = o.page_size {
                q = q.page_size(whole("page_size", n)?);
            }
            if let Some(a) = o.after {
                q = q.after(a);
            }
        }
        client.messages(&conversation_id, q).map(NativeMessagePager::new).map_err(from_core)
    }

    fn export(&self, options: Option<ExportOptionsJs>) -> errors::Result<NativeExport> {
        let client = self.client()?;
        let mut o = ExportOptions::default();
        if let Some(js) = options {
            if let Some(list) = js.folders {
                o.folders = list.iter().map(|f| f.parse::<Folder>()).collect::<Result<_, _>>().map_err(from_core)?;
            }
            if let Some(list) = js.platforms {
                o.platforms =
                    list.iter().map(|p| p.parse::<Platform>()).collect::<Result<_, _>>().map_err(from_core)?;
            }
            if let Some(f) = js.fields {
                o.fields = f;
            }
            if let Some(n) = js.messages {
                o.messages = whole_u32("messages", n)?;
            }
            o.since = js.since;
            o.checkpoint = js.checkpoint.map(Into::into);
            if let Some(rate) = js.max_calls_per_second {
                o.max_calls_per_second = Some(rate);
            }
            if js.pacing_off == Some(true) {
                o.max_calls_per_second = None;
            }
            if let Some(n) = js.page_size {
                o.page_size = whole_u32("page_size", n)?;
            }
        }
        let export = client.export_conversations(o).map_err(from_core)?;
        let stats = export.stats();
        Ok(NativeExport { export: Arc::new(tokio::sync::Mutex::new(Some(export))), stats: Arc::new(Mutex::new(stats)) })
    }
}

/// The core's export: `nextBatch()` a page of conversations at a time, or `writeJsonl`
/// (which takes it: an export is walked once).
#[napi]
pub struct NativeExport {
    export: Arc<tokio::sync::Mutex<Option<core::Export>>>,
    /// The stats after the last conversation handed out or page written.
    stats: Arc<Mutex<ExportStats>>,
}

#[napi]
impl NativeExport {
    /// The next conversations as one JSON text, `{ items, stats }` (`stats[i]`:
    /// the export's stats once `items[i]` is handed out), or `null` when every
    /// walk has ended: the first is awaited, the rest are those of its page
    /// already fetched. One promise and one `JSON.parse` per page instead of a
    /// promise and a napi object per conversation (issue 14). An aborted read
    /// leaves the export where it was (nothing is taken before the await ends).
    #[napi]
    pub fn next_batch<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, Option<Latin1String>>> {
        let (export, stats) = (self.export.clone(), self.stats.clone());
        errors::spawn(
            env,
            Canceller::from_token(cancel).run(async move {
                let mut guard = export.lock().await;
                let Some(e) = guard.as_mut() else { return Ok(None) };
                let first = e.next().await.map_err(from_core);
                *stats.lock().unwrap_or_else(PoisonError::into_inner) = e.stats();
                let Some(first) = first? else { return Ok(None) };
                let mut items = vec![first];
                let mut after = vec![ExportStatsJs::from(&e.stats())];
                while let Some(conv) = e.next_buffered() {
                    items.push(conv);
                    after.push(ExportStatsJs::from(&e.stats()));
                }
                *stats.lock().unwrap_or_else(PoisonError::into_inner) = e.stats();
                let batch = BatchJson { items: items.into_iter().map(Conversation::from).collect(), stats: after };
                crate::convert::ascii_json(&batch)
                    .map(Some)
                    .map_err(|e| state(format!("cannot hand the conversations over: {e}")))
            }),
        )
    }

    /// The stats so far (live during `writeJsonl`, updated after each page).
    #[napi(getter)]
    pub fn stats(&self) -> ExportStatsJs {
        ExportStatsJs::from(&*self.stats.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The core's JSONL writer, resumable with a checkpoint. Aborting stops
    /// it; what was committed stays, and a rerun continues from there.
    ///
    /// `on_progress` gets the stats pushed by the core after each page it
    /// wrote, on the event loop as it happens. At most one call waits in the
    /// queue: pages written faster than the event loop takes them coalesce
    /// into one call with the latest stats, so a quick export never piles up
    /// progress calls behind it.
    #[napi]
    pub fn write_jsonl<'env>(
        &self,
        env: &'env Env,
        path: String,
        cancel: Option<&CancelToken>,
        on_progress: Option<Function<ExportStatsJs, ()>>,
    ) -> napi::Result<PromiseRaw<'env, ExportStatsJs>> {
        let export = self
            .export
            .try_lock()
            .ok()
            .and_then(|mut g| g.take())
            .ok_or_else(|| throw(env, state("this export was already iterated or written")))?;
        let stats = self.stats.clone();
        let progress = on_progress.map(|f| Progress::new(&f, stats.clone())).transpose()?;
        errors::spawn(
            env,
            Canceller::from_token(cancel).run(async move {
                let live = stats.clone();
                let report = move |s: &ExportStats| {
                    *live.lock().unwrap_or_else(PoisonError::into_inner) = s.clone();
                    if let Some(p) = &progress {
                        p.push(s);
                    }
                };
                let done = export.write_jsonl_with_progress(path, report).await.map_err(from_core)?;
                *stats.lock().unwrap_or_else(PoisonError::into_inner) = done.clone();
                Ok(ExportStatsJs::from(&done))
            }),
        )
    }
}

/// Weak: progress never keeps the process alive (the pending write does).
type ProgressFn = ThreadsafeFunction<(), (), ExportStatsJs, Status, false, true>;

/// `onProgress` fed from the core's writer: `latest` holds stats not yet
/// delivered, and is `Some` exactly while a call is queued.
struct Progress {
    latest: Arc<Mutex<Option<ExportStats>>>,
    call: ProgressFn,
}

impl Progress {
    fn new(f: &Function<ExportStatsJs, ()>, fallback: Arc<Mutex<ExportStats>>) -> napi::Result<Self> {
        let latest: Arc<Mutex<Option<ExportStats>>> = Arc::default();
        let pending = latest.clone();
        let call = f.build_threadsafe_function::<()>().weak::<true>().callee_handled::<false>().build_callback(
            move |_ctx: ThreadsafeCallContext<()>| {
                let taken = pending.lock().unwrap_or_else(PoisonError::into_inner).take();
                let stats = taken.unwrap_or_else(|| fallback.lock().unwrap_or_else(PoisonError::into_inner).clone());
                Ok(ExportStatsJs::from(&stats))
            },
        )?;
        Ok(Progress { latest, call })
    }

    /// Called on a runtime thread after each page written; never waits.
    fn push(&self, stats: &ExportStats) {
        let queued = self.latest.lock().unwrap_or_else(PoisonError::into_inner).replace(stats.clone()).is_some();
        if !queued {
            let _ = self.call.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
