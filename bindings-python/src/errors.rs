//! Turns core errors into the exception classes of
//! `messenger_handover.errors` (defined in Python, looked up once).

use messenger_handover::{Error, ErrorKind, TransportFailure};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::convert::json_to_py;

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || Ok(py.import("messenger_handover.errors")?.unbind())).map(|m| m.bind(py))
}

fn class_name(kind: ErrorKind, timeout: bool) -> &'static str {
    match kind {
        ErrorKind::InvalidParameter => "InvalidParameterError",
        ErrorKind::Auth => "AuthError",
        ErrorKind::Permission => "PermissionDeniedError",
        ErrorKind::ThreadControl => "ThreadControlError",
        ErrorKind::RateLimit => "RateLimitError",
        ErrorKind::Blocked => "BlockedError",
        ErrorKind::Server => "ServerError",
        ErrorKind::Transport if timeout => "TimeoutError",
        ErrorKind::Transport => "TransportError",
        ErrorKind::Protocol => "ProtocolError",
        ErrorKind::InvalidInput => "HandoverError",
    }
}

/// The Python exception for a core error. Bad arguments become a plain
/// `ValueError` naming the argument (with `.argument` set); everything else
/// an instance of the class for its kind, with every attribute filled.
pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match build(py, &err) {
        Ok(e) => e,
        // The errors module could not be imported: still say what happened.
        Err(import_failure) => {
            let e = PyRuntimeError::new_err(err.to_string());
            e.set_cause(py, Some(import_failure));
            e
        }
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    if let Error::Transport { failure: TransportFailure::Closed, .. } = err {
        // Same answer as a call on the closed client itself.
        return Ok(PyRuntimeError::new_err("the client is closed"));
    }
    if let Error::InvalidInput { argument, .. } = err {
        let value = PyValueError::new_err(err.to_string()).into_value(py);
        value.bind(py).setattr("argument", *argument)?;
        return Ok(PyErr::from_value(value.into_bound(py).into_any()));
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", err.kind().as_str())?;
    let message = match err {
        Error::Graph(g) => {
            kwargs.set_item("code", g.code)?;
            kwargs.set_item("subcode", g.subcode)?;
            kwargs.set_item("type", g.error_type.as_deref())?;
            kwargs.set_item("fbtrace_id", g.fbtrace_id.as_deref())?;
            kwargs.set_item("http_status", g.http_status)?;
            kwargs.set_item("is_transient", g.is_transient)?;
            kwargs.set_item("user_title", g.user_title.as_deref())?;
            kwargs.set_item("user_message", g.user_message.as_deref())?;
            kwargs.set_item("graph_message", g.message.as_str())?;
            if g.kind == ErrorKind::RateLimit {
                kwargs.set_item("retry_after", g.retry_after.map(|d| d.as_secs_f64()))?;
                let usage = match &g.usage {
                    Some(u) => Some(json_to_py(py, &serde_json::to_value(u).unwrap_or_default())?),
                    None => None,
                };
                kwargs.set_item("usage", usage)?;
            }
            g.to_string()
        }
        Error::Transport { failure, message } => {
            kwargs.set_item("connected", !matches!(failure, TransportFailure::Connect))?;
            format!("transport error: {message}")
        }
        Error::Protocol { message, http_status } => {
            kwargs.set_item("http_status", *http_status)?;
            format!("protocol error: {message}")
        }
        Error::InvalidInput { .. } => err.to_string(),
    };
    let class = errors_module(py)?.getattr(class_name(err.kind(), err.is_timeout()))?;
    let instance = class.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}
