//! Messages and the inbox export (issue 12): module functions taking the
//! `NativeClient`, and `NativeExport`, the core's export behind a lock.
//! The walk, dedupe, pacing and the resumable writer are the core's; this
//! file only converts arguments and results.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use messenger_handover::{self as core, ExportOptions, ExportStats, Folder, MessagesQuery, Platform};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::client::{clamp_u32, NativeClient};
use crate::convert::json_to_py;
use crate::errors::to_pyerr;
use crate::models::Conversation;
use crate::pager::NativeMessagePager;
use crate::runtime::{from_tokio_thread, PendingCall};

/// A pager over a conversation's messages; arguments are checked now.
#[pyfunction]
#[pyo3(signature = (client, conversation_id, *, fields=None, page_size=None, after=None))]
pub fn messages(
    py: Python<'_>,
    client: &NativeClient,
    conversation_id: String,
    fields: Option<Vec<String>>,
    page_size: Option<i64>,
    after: Option<String>,
) -> PyResult<NativeMessagePager> {
    let c = client.core()?;
    let mut q = MessagesQuery::new();
    if let Some(f) = fields {
        q = q.fields(f);
    }
    if let Some(n) = page_size {
        q = q.page_size(n);
    }
    if let Some(a) = after {
        q = q.after(a);
    }
    c.messages(&conversation_id, q).map(NativeMessagePager::new).map_err(|e| to_pyerr(py, e))
}

/// An export; arguments are checked now, nothing is sent yet.
#[pyfunction]
#[pyo3(signature = (client, *, folders=None, platforms=None, fields=None, messages=0, since=None,
                    checkpoint=None, max_calls_per_second=None, page_size=None))]
#[allow(clippy::too_many_arguments)]
pub fn export_conversations(
    py: Python<'_>,
    client: &NativeClient,
    folders: Option<Vec<String>>,
    platforms: Option<Vec<String>>,
    fields: Option<Vec<String>>,
    messages: i64,
    since: Option<DateTime<Utc>>,
    checkpoint: Option<PathBuf>,
    max_calls_per_second: Option<f64>,
    page_size: Option<i64>,
) -> PyResult<NativeExport> {
    let c = client.core()?;
    let mut o = ExportOptions::default();
    if let Some(list) = folders {
        o.folders = list.iter().map(|f| f.parse::<Folder>()).collect::<Result<_, _>>().map_err(|e| to_pyerr(py, e))?;
    }
    if let Some(list) = platforms {
        o.platforms =
            list.iter().map(|p| p.parse::<Platform>()).collect::<Result<_, _>>().map_err(|e| to_pyerr(py, e))?;
    }
    if let Some(f) = fields {
        o.fields = f;
    }
    o.messages = clamp_u32(messages);
    o.since = since;
    o.checkpoint = checkpoint;
    // None: no pacing (the Python wrapper passes DESIGN's default itself).
    o.max_calls_per_second = max_calls_per_second;
    if let Some(n) = page_size {
        o.page_size = clamp_u32(n);
    }
    let export = c.export_conversations(o).map_err(|e| to_pyerr(py, e))?;
    let stats = export.stats();
    Ok(NativeExport { export: Arc::new(tokio::sync::Mutex::new(Some(export))), stats: Arc::new(Mutex::new(stats)) })
}

type ExportGuard = tokio::sync::OwnedMutexGuard<Option<core::Export>>;
/// What a read took from the export.
type Taken = messenger_handover::Result<Option<core::Conversation>>;

fn stats_to_py(py: Python<'_>, stats: &ExportStats) -> PyResult<Py<PyAny>> {
    json_to_py(py, &serde_json::to_value(stats).unwrap_or_default())
}

/// The core's export: `next()` one conversation at a time, or `write_jsonl`
/// (which takes it: an export is walked once).
#[pyclass(frozen, module = "messenger_handover._native")]
pub struct NativeExport {
    export: Arc<tokio::sync::Mutex<Option<core::Export>>>,
    /// The stats after the last conversation handed out or page written.
    stats: Arc<Mutex<ExportStats>>,
}

#[pymethods]
impl NativeExport {
    /// The next conversation, or None when every walk has ended. The export
    /// stays locked until Python has it: a read cancelled after the
    /// conversation came puts it back (`Export::unread`), and no other read
    /// overtakes it meanwhile.
    fn next(&self) -> PendingCall {
        let (export, stats) = (self.export.clone(), self.stats.clone());
        let fut = async move {
            let mut guard = export.lock_owned().await;
            let conv = match guard.as_mut() {
                Some(e) => e.next().await,
                None => Ok(None),
            };
            (guard, conv)
        };
        let deliver = move |py: Python<'_>, (guard, conv): (ExportGuard, Taken)| {
            if let Some(e) = guard.as_ref() {
                *stats.lock().unwrap_or_else(PoisonError::into_inner) = e.stats();
            }
            drop(guard);
            Ok(match conv.map_err(|e| to_pyerr(py, e))? {
                Some(c) => Bound::new(py, Conversation::from(c))?.into_any().unbind(),
                None => py.None(),
            })
        };
        let give_back = |(mut guard, conv): (ExportGuard, Taken)| {
            if let (Some(e), Ok(Some(c))) = (guard.as_mut(), conv) {
                e.unread(c);
            }
        };
        PendingCall::with_give_back(fut, deliver, give_back)
    }

    /// The next conversation already fetched, at once (no await, nothing
    /// sent), or None when the next one needs `next()`: a fetched page is
    /// handed out without one native await per conversation (issue 14).
    fn next_ready(&self) -> Option<Conversation> {
        // Locked: a `next()` is in flight; the caller awaits one of its own.
        let mut guard = self.export.try_lock().ok()?;
        let e = guard.as_mut()?;
        let conv = e.next_buffered();
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner) = e.stats();
        conv.map(Conversation::from)
    }

    /// `{calls, pages, conversations, duplicates_dropped, time_waited}`.
    #[getter]
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        stats_to_py(py, &self.stats.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The core's JSONL writer (resumable with a checkpoint); `progress` is
    /// called with the stats dict after every page written.
    #[pyo3(signature = (path, progress=None))]
    fn write_jsonl(&self, path: PathBuf, progress: Option<Py<PyAny>>) -> PyResult<PendingCall> {
        let export = self
            .export
            .try_lock()
            .ok()
            .and_then(|mut g| g.take())
            .ok_or_else(|| PyRuntimeError::new_err("this export was already iterated or written"))?;
        let stats = self.stats.clone();
        let fut = async move {
            let report = |s: &ExportStats| {
                *stats.lock().unwrap_or_else(PoisonError::into_inner) = s.clone();
                if let Some(cb) = &progress {
                    from_tokio_thread(|py| {
                        // A failing progress bar must not stop the export.
                        if let Err(e) = stats_to_py(py, s).and_then(|d| cb.call1(py, (d,))) {
                            e.write_unraisable(py, None);
                        }
                    });
                }
            };
            export.write_jsonl_with_progress(path, report).await
        };
        let stats = self.stats.clone();
        Ok(PendingCall::new(fut, move |py, s| {
            *stats.lock().unwrap_or_else(PoisonError::into_inner) = s.clone();
            stats_to_py(py, &s)
        }))
    }
}
