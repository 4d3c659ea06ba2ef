//! The Rust emulator and the scripted conformance server, started in-process
//! on the shared runtime, for `messenger_handover.testing`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use messenger_handover_emulator::scripted::{ScriptedResponse, ScriptedServer};
use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, FaultSpec, FeatureStatus, RateLimitConfig};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::de::DeserializeOwned;

use crate::convert::{json_to_py, py_to_json};
use crate::runtime::{block_on, PendingCall};

fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let value = py_to_json(obj, what)?;
    serde_json::from_value(value).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

fn to_py<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    json_to_py(py, &v)
}

fn io_err(e: std::io::Error) -> PyErr {
    match e.kind() {
        // A configuration `EmulatorConfig::check` refused.
        std::io::ErrorKind::InvalidInput => PyValueError::new_err(format!("emulator: {e}")),
        _ => PyRuntimeError::new_err(format!("emulator: {e}")),
    }
}

#[pyclass(frozen, name = "Emulator", module = "messenger_handover._native")]
pub struct NativeEmulator {
    inner: Mutex<Option<Arc<Emulator>>>,
}

impl NativeEmulator {
    fn get(&self) -> PyResult<Arc<Emulator>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the emulator is stopped"))
    }
}

#[pymethods]
impl NativeEmulator {
    /// Starts an emulator; `config` is a dict of `EmulatorConfig` fields.
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let config: EmulatorConfig = match config {
            Some(c) => from_py(c.as_any(), "config")?,
            None => EmulatorConfig::default(),
        };
        let emu = block_on(py, Emulator::start(config))?.map_err(io_err)?;
        Ok(NativeEmulator { inner: Mutex::new(Some(Arc::new(emu))) })
    }

    #[getter]
    fn url(&self) -> PyResult<String> {
        Ok(self.get()?.url().to_owned())
    }

    #[getter]
    fn port(&self) -> PyResult<u16> {
        Ok(self.get()?.port())
    }

    #[getter]
    fn page_id(&self) -> PyResult<String> {
        Ok(self.get()?.page_id().to_owned())
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// `{"primary": {"app_id", "token", "secret"}, "secondary": ..., "page_inbox": ...}`
    fn apps(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, self.get()?.apps())
    }

    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.get()?.info())
    }

    fn request_log(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.get()?.request_log())
    }

    fn clear_request_log(&self) -> PyResult<()> {
        self.get()?.clear_request_log();
        Ok(())
    }

    fn inject_fault(&self, fault: &Bound<'_, PyAny>) -> PyResult<()> {
        let spec: FaultSpec = from_py(fault, "fault")?;
        self.get()?.inject_fault(spec);
        Ok(())
    }

    fn clear_faults(&self) -> PyResult<()> {
        self.get()?.clear_faults();
        Ok(())
    }

    fn set_rate_limit(&self, config: &Bound<'_, PyAny>) -> PyResult<()> {
        let cfg: RateLimitConfig = from_py(config, "rate_limit")?;
        self.get()?.set_rate_limit(cfg);
        Ok(())
    }

    fn reset(&self) -> PyResult<()> {
        self.get()?.reset();
        Ok(())
    }

    fn state(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.get()?.state())
    }

    #[pyo3(signature = (app, url))]
    fn set_webhook(&self, app: &str, url: Option<String>) -> PyResult<()> {
        let role: AppRole = app.parse().map_err(|e: String| PyValueError::new_err(format!("app: {e}")))?;
        self.get()?.set_webhook(role, url);
        Ok(())
    }

    /// A user message arrives on `psid`; the webhooks are delivered before
    /// the call is done (`wait()` returns or the await completes).
    fn simulate_message(&self, psid: String, text: String) -> PyResult<PendingCall> {
        let emu = self.get()?;
        let fut = async move { emu.simulate_message(&psid, &text).await };
        Ok(PendingCall::with(fut, |py, r| match r {
            Ok(()) => Ok(py.None()),
            Err(e) => Err(PyValueError::new_err(e.to_string())),
        }))
    }

    /// A Page admin makes `app` the primary receiver; the `app_roles` webhooks
    /// are delivered before the call is done.
    fn set_primary_receiver(&self, app: &str) -> PyResult<PendingCall> {
        let role: AppRole = app.parse().map_err(|e: String| PyValueError::new_err(format!("app: {e}")))?;
        let emu = self.get()?;
        Ok(PendingCall::with(async move { emu.set_primary_receiver(role).await }, |py, ()| Ok(py.None())))
    }

    /// Every conversation, newest first.
    fn conversations(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.get()?.conversations())
    }

    /// A new message in conversation `id`: it moves to the top; its summary.
    #[pyo3(signature = (id, text=None))]
    fn bump_conversation(&self, py: Python<'_>, id: &str, text: Option<&str>) -> PyResult<Py<PyAny>> {
        match self.get()?.bump_conversation(id, text) {
            Some(v) => json_to_py(py, &v),
            None => Err(PyValueError::new_err("invalid argument `id`: no such conversation")),
        }
    }

    /// The emulated clock, in Graph's time format.
    fn now(&self) -> PyResult<String> {
        Ok(self.get()?.now().format("%Y-%m-%dT%H:%M:%S%z").to_string())
    }

    fn advance_clock(&self, secs: i64) -> PyResult<String> {
        let now = self.get()?.advance_clock(secs).map_err(|e| PyValueError::new_err(format!("seconds: {e}")))?;
        Ok(now.format("%Y-%m-%dT%H:%M:%S%z").to_string())
    }

    #[pyo3(signature = (app))]
    fn set_default_app(&self, app: Option<&str>) -> PyResult<()> {
        let role = match app {
            Some(a) => Some(a.parse::<AppRole>().map_err(|e: String| PyValueError::new_err(format!("app: {e}")))?),
            None => None,
        };
        self.get()?.set_default_app(role);
        Ok(())
    }

    fn set_feature_status(&self, status: &Bound<'_, PyAny>) -> PyResult<()> {
        let status: FeatureStatus = from_py(status, "feature_status")?;
        self.get()?.set_feature_status(status);
        Ok(())
    }

    fn set_conversations_pacing(&self, per_second: u32) -> PyResult<()> {
        self.get()?.set_conversations_pacing(per_second);
        Ok(())
    }

    fn set_log_capacity(&self, capacity: usize) -> PyResult<()> {
        self.get()?.set_log_capacity(capacity);
        Ok(())
    }

    /// Stops the server (idempotent).
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.inner.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(arc) = taken {
            if let Ok(emu) = Arc::try_unwrap(arc) {
                block_on(py, async move {
                    emu.shutdown().await;
                    Ok::<(), ()>(())
                })?
                .ok();
            }
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        match self.get() {
            Ok(e) => format!("Emulator(url={:?}, page_id={:?})", e.url(), e.page_id()),
            Err(_) => "Emulator(stopped)".to_owned(),
        }
    }
}

#[pyclass(frozen, name = "ScriptedServer", module = "messenger_handover._native")]
pub struct NativeScriptedServer {
    inner: Mutex<Option<Arc<ScriptedServer>>>,
}

impl NativeScriptedServer {
    fn get(&self) -> PyResult<Arc<ScriptedServer>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the scripted server is stopped"))
    }
}

#[pymethods]
impl NativeScriptedServer {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        let server = block_on(py, ScriptedServer::start())?.map_err(io_err)?;
        Ok(NativeScriptedServer { inner: Mutex::new(Some(Arc::new(server))) })
    }

    #[getter]
    fn url(&self) -> PyResult<String> {
        Ok(self.get()?.url().to_owned())
    }

    /// Queues one answer: status, headers, body served byte for byte.
    #[pyo3(signature = (status, headers, body))]
    fn push_response(&self, status: u16, headers: BTreeMap<String, String>, body: String) -> PyResult<()> {
        self.get()?.push_response(ScriptedResponse { status, headers, body }).map_err(PyValueError::new_err)
    }

    /// Every request received: dicts of method, path, query (list of pairs),
    /// headers (lowercase names) and body (text).
    fn requests(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.get()?.requests())
    }

    fn clear(&self) -> PyResult<()> {
        self.get()?.clear();
        Ok(())
    }

    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.inner.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(arc) = taken {
            if let Ok(server) = Arc::try_unwrap(arc) {
                block_on(py, async move {
                    server.shutdown().await;
                    Ok::<(), ()>(())
                })?
                .ok();
            }
        }
        Ok(())
    }
}
