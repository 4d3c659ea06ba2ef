//! `NativeClient`: the core client behind both Python clients. Every
//! operation returns a `PendingCall`: the `AsyncClient` awaits it, the
//! blocking `Client` calls its `wait()`. One signature per operation.

use std::sync::{Mutex, PoisonError};

use messenger_handover::{self as core, BatchOp, BatchValue, ClientBuilder, ConversationsQuery, Folder, Platform};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::{json_to_py, py_to_json};
use crate::errors::to_pyerr;
use crate::models::{App, FeatureStatus, ThreadOwner};
use crate::pager::NativePager;
use crate::runtime::PendingCall;

/// A Python int as the core's `u32`: one out of range becomes a value the
/// core still refuses, with its own words (negative: `u32::MAX`).
pub(crate) fn clamp_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn none(py: Python<'_>, _: ()) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

fn owner(py: Python<'_>, owner: Option<core::ThreadOwner>) -> PyResult<Py<PyAny>> {
    Ok(match owner {
        Some(o) => Bound::new(py, ThreadOwner::from(o))?.into_any().unbind(),
        None => py.None(),
    })
}

fn apps(py: Python<'_>, apps: Vec<core::App>) -> PyResult<Py<PyAny>> {
    let list = PyList::empty(py);
    for a in apps {
        list.append(App::from(a))?;
    }
    Ok(list.into_any().unbind())
}

/// One result per operation, in order: its value, or its exception instance
/// (returned in the list, not raised: one failure never hides the others).
fn results<T>(
    py: Python<'_>,
    results: Vec<core::Result<T>>,
    value: impl Fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let list = PyList::empty(py);
    for r in results {
        match r {
            Ok(v) => list.append(value(py, v)?)?,
            Err(e) => list.append(to_pyerr(py, e).into_value(py))?,
        }
    }
    Ok(list.into_any().unbind())
}

fn batch_value(py: Python<'_>, value: BatchValue) -> PyResult<Py<PyAny>> {
    match value {
        BatchValue::ThreadOwner(o) => owner(py, o),
        BatchValue::Done => Ok(py.None()),
        BatchValue::SecondaryReceivers(list) => apps(py, list),
        BatchValue::FeatureStatus(s) => Ok(Bound::new(py, FeatureStatus::from(s))?.into_any().unbind()),
    }
}

enum Slot {
    /// The client, and the process it was built in: a forked child gets its
    /// own (pooled connections do not survive a fork).
    Open(u32, core::Client),
    Closed,
}

#[pyclass(frozen, module = "messenger_handover._native")]
pub struct NativeClient {
    builder: ClientBuilder,
    slot: Mutex<Slot>,
    page_id: String,
    api_version: String,
    base_url: String,
}

impl NativeClient {
    pub(crate) fn core(&self) -> PyResult<core::Client> {
        let pid = std::process::id();
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Slot::Open(owner, client) if *owner == pid => Ok(client.clone()),
            Slot::Open(..) => {
                let client = self.builder.clone().build().map_err(|e| Python::attach(|py| to_pyerr(py, e)))?;
                *slot = Slot::Open(pid, client.clone());
                Ok(client)
            }
            Slot::Closed => Err(PyRuntimeError::new_err("the client is closed")),
        }
    }
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (access_token, *, page_id=None, app_secret=None, api_version=None, base_url=None,
                        timeout=None, max_retries=None, max_retry_wait=None, retry_base_delay=None,
                        max_response_bytes=None, max_connections=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        access_token: String,
        page_id: Option<String>,
        app_secret: Option<String>,
        api_version: Option<String>,
        base_url: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<i64>,
        max_retry_wait: Option<f64>,
        retry_base_delay: Option<f64>,
        max_response_bytes: Option<i64>,
        max_connections: Option<i64>,
    ) -> PyResult<Self> {
        let mut b = ClientBuilder::new(access_token);
        if let Some(v) = page_id {
            b = b.page_id(v);
        }
        if let Some(v) = app_secret {
            b = b.app_secret(v);
        }
        if let Some(v) = api_version {
            b = b.api_version(v);
        }
        if let Some(v) = base_url {
            b = b.base_url(v);
        }
        // Numbers go to the core as given: it checks every range.
        if let Some(v) = timeout {
            b = b.timeout_secs(v);
        }
        if let Some(v) = max_retries {
            b = b.max_retries(v);
        }
        if let Some(v) = max_retry_wait {
            b = b.max_retry_wait_secs(v);
        }
        if let Some(v) = retry_base_delay {
            b = b.retry_base_delay_secs(v);
        }
        if let Some(v) = max_response_bytes {
            b = b.max_response_bytes(v);
        }
        if let Some(v) = max_connections {
            b = b.max_connections(v);
        }
        // Building needs the runtime's reactor for nothing, but reqwest may
        // look for one: build inside it to be safe.
        let _guard = crate::runtime::handle()?.enter();
        let client = b.clone().build().map_err(|e| to_pyerr(py, e))?;
        Ok(NativeClient {
            page_id: client.page_id().to_owned(),
            api_version: client.api_version().to_owned(),
            base_url: client.base_url(),
            builder: b,
            slot: Mutex::new(Slot::Open(std::process::id(), client)),
        })
    }

    #[getter]
    fn page_id(&self) -> &str {
        &self.page_id
    }

    #[getter]
    fn api_version(&self) -> &str {
        &self.api_version
    }

    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    #[getter]
    fn closed(&self) -> bool {
        matches!(*self.slot.lock().unwrap_or_else(PoisonError::into_inner), Slot::Closed)
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeClient(page_id={:?}, base_url={:?}, api_version={:?})",
            self.page_id, self.base_url, self.api_version
        )
    }

    /// Drops this client's connection pool; calls in flight finish, and
    /// pagers made from it stop (the core closes every clone).
    fn close(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Slot::Open(_, client) = &*slot {
            client.close();
        }
        *slot = Slot::Closed;
    }

    /// The usage headers of the last response, as a dict, or None.
    fn last_usage(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let usage = match &*self.slot.lock().unwrap_or_else(PoisonError::into_inner) {
            Slot::Open(_, c) => c.last_usage(),
            Slot::Closed => None,
        };
        usage.map(|u| json_to_py(py, &serde_json::to_value(u).unwrap_or_default())).transpose()
    }

    fn thread_owner(&self, psid: String) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.thread_owner(&psid).await }, owner))
    }

    fn pass_thread_control(
        &self,
        psid: String,
        target_app_id: String,
        metadata: Option<String>,
    ) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(
            async move { c.pass_thread_control(&psid, &target_app_id, metadata.as_deref()).await },
            none,
        ))
    }

    /// `platform`: None or "messenger" for the Page Inbox, "instagram" for
    /// the Instagram Inbox.
    fn pass_thread_control_to_page_inbox(
        &self,
        py: Python<'_>,
        psid: String,
        metadata: Option<String>,
        platform: Option<String>,
    ) -> PyResult<PendingCall> {
        let c = self.core()?;
        let platform = platform.map(|p| p.parse::<Platform>()).transpose().map_err(|e| to_pyerr(py, e))?;
        let fut = async move {
            match platform {
                Some(p) => c.pass_thread_control_to_inbox(&psid, metadata.as_deref(), p).await,
                None => c.pass_thread_control_to_page_inbox(&psid, metadata.as_deref()).await,
            }
        };
        Ok(PendingCall::new(fut, none))
    }

    fn feature_status(&self) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.feature_status().await }, |py, s| {
            Ok(Bound::new(py, FeatureStatus::from(s))?.into_any().unbind())
        }))
    }

    /// `operations`: plain dicts in the core's form (`BatchOp.to_dict()`);
    /// checked now, nothing sent until the call runs.
    fn batch(&self, py: Python<'_>, operations: Vec<Bound<'_, PyAny>>) -> PyResult<PendingCall> {
        let c = self.core()?;
        let ops = operations
            .iter()
            .enumerate()
            .map(|(i, op)| BatchOp::from_json(i, py_to_json(op, "operations")?).map_err(|e| to_pyerr(py, e)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PendingCall::new(async move { c.batch(ops).await }, |py, r| results(py, r, batch_value)))
    }

    fn thread_owners(&self, psids: Vec<String>) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.thread_owners(psids).await }, |py, r| results(py, r, owner)))
    }

    fn take_thread_control(&self, psid: String, metadata: Option<String>) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.take_thread_control(&psid, metadata.as_deref()).await }, none))
    }

    fn request_thread_control(&self, psid: String, metadata: Option<String>) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.request_thread_control(&psid, metadata.as_deref()).await }, none))
    }

    fn release_thread_control(&self, psid: String, metadata: Option<String>) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.release_thread_control(&psid, metadata.as_deref()).await }, none))
    }

    /// `duration_seconds` as given (an int or a timedelta's seconds); the
    /// core checks that it is whole and in range.
    fn extend_thread_control(&self, psid: String, duration_seconds: f64) -> PyResult<PendingCall> {
        let c = self.core()?;
        let fut = async move {
            let duration = messenger_handover::validate::duration_secs(duration_seconds)?;
            c.extend_thread_control(&psid, duration).await
        };
        Ok(PendingCall::new(fut, none))
    }

    fn secondary_receivers(&self) -> PyResult<PendingCall> {
        let c = self.core()?;
        Ok(PendingCall::new(async move { c.secondary_receivers().await }, apps))
    }

    /// A pager; arguments are checked now, nothing is sent yet.
    #[pyo3(signature = (*, folder=None, platform=None, user_id=None, tags=None, fields=None, page_size=None, after=None, messages=None))]
    #[allow(clippy::too_many_arguments)]
    fn conversations(
        &self,
        py: Python<'_>,
        folder: Option<String>,
        platform: Option<String>,
        user_id: Option<String>,
        tags: Option<Vec<String>>,
        fields: Option<Vec<String>>,
        page_size: Option<i64>,
        after: Option<String>,
        messages: Option<i64>,
    ) -> PyResult<NativePager> {
        let c = self.core()?;
        let mut q = ConversationsQuery::new();
        if let Some(f) = folder {
            q = q.folder(f.parse::<Folder>().map_err(|e| to_pyerr(py, e))?);
        }
        if let Some(p) = platform {
            q = q.platform(p.parse::<Platform>().map_err(|e| to_pyerr(py, e))?);
        }
        if let Some(u) = user_id {
            q = q.user_id(u);
        }
        if let Some(t) = tags {
            q = q.tags(t);
        }
        if let Some(f) = fields {
            q = q.fields(f);
        }
        if let Some(n) = page_size {
            q = q.page_size(n);
        }
        if let Some(a) = after {
            q = q.after(a);
        }
        if let Some(n) = messages {
            q = q.messages(clamp_u32(n));
        }
        let pager = c.conversations(q).map_err(|e| to_pyerr(py, e))?;
        Ok(NativePager::new(pager))
    }
}
