//! Webhook helpers: signature, subscription handshake and event parsing,
//! all in the core; events come out as dicts that `messenger_handover.webhooks`
//! turns into dataclasses.

use messenger_handover::webhooks::{self, Event};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::json_to_py;
use crate::errors::to_pyerr;

/// True when `header` is a valid `sha256=<hex>` signature of `raw_body`;
/// ValueError for an empty app secret (the core's rule).
#[pyfunction]
#[pyo3(signature = (app_secret, raw_body, header))]
pub fn verify_signature(py: Python<'_>, app_secret: &str, raw_body: &[u8], header: Option<&str>) -> PyResult<bool> {
    webhooks::check_secret("app_secret", app_secret).map_err(|e| to_pyerr(py, e))?;
    let (secret, body, header) = (app_secret.to_owned(), raw_body.to_vec(), header.map(str::to_owned));
    Ok(py.detach(move || webhooks::verify_signature(&secret, &body, header.as_deref())))
}

/// ValueError when a webhook secret (`app_secret` or `verify_token`) is
/// empty: called where a handler is made.
#[pyfunction]
pub fn check_webhook_secret(py: Python<'_>, argument: &str, value: &str) -> PyResult<()> {
    let argument = match argument {
        "app_secret" => "app_secret",
        "verify_token" => "verify_token",
        _ => return Err(PyValueError::new_err("argument must be \"app_secret\" or \"verify_token\"")),
    };
    webhooks::check_secret(argument, value).map_err(|e| to_pyerr(py, e))
}

/// The `X-Hub-Signature-256` value for a body.
#[pyfunction]
pub fn sign(app_secret: &str, raw_body: &[u8]) -> String {
    webhooks::sign(app_secret, raw_body)
}

/// The challenge to echo back, or ValueError saying why not.
#[pyfunction]
pub fn verify_subscription(py: Python<'_>, params: Vec<(String, String)>, verify_token: &str) -> PyResult<String> {
    webhooks::check_secret("verify_token", verify_token).map_err(|e| to_pyerr(py, e))?;
    webhooks::verify_subscription(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), verify_token)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Every event of every entry, as dicts with a `type` key.
#[pyfunction]
pub fn parse_events<'py>(py: Python<'py>, raw_body: &[u8]) -> PyResult<Bound<'py, PyList>> {
    let events = webhooks::parse_events(raw_body).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = PyList::empty(py);
    for event in events {
        out.append(event_dict(py, &event)?)?;
    }
    Ok(out)
}

/// One event as a dict, its timestamp a datetime; a standby's inner event likewise.
fn event_dict<'py>(py: Python<'py>, event: &Event) -> PyResult<Bound<'py, PyDict>> {
    let value = serde_json::to_value(event).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let obj = json_to_py(py, &value)?;
    let dict = obj.bind(py).cast::<PyDict>()?.clone();
    dict.set_item("timestamp", event.context().timestamp)?;
    if let Event::Standby { event: inner, .. } = event {
        dict.set_item("event", event_dict(py, inner)?)?;
    }
    Ok(dict)
}
