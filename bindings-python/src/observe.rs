//! The core's tracing events as records of the standard `logging` logger
//! `messenger_handover` (`python/messenger_handover/_logging.py`), and the
//! command line's `run(argv)`.
//!
//! The Python side tells [`set_log_level`] the lowest level the logger
//! passes whenever a logging level changes; until something passes, an event
//! costs the core one relaxed atomic load and never touches the GIL.

use std::sync::OnceLock;

use messenger_handover::observe::{Bridge, BridgeLevel, Record, Value};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use tracing::Level;

use crate::runtime::from_tokio_thread;

static LEVEL: OnceLock<BridgeLevel> = OnceLock::new();

/// Installs the bridge as the process's `tracing` subscriber (this library
/// is the only Rust in the extension module, so nobody else wants the slot).
pub fn install() {
    let bridge = Bridge::new(deliver);
    let level = bridge.level();
    if tracing::subscriber::set_global_default(bridge).is_ok() {
        let _ = LEVEL.set(level);
    }
}

/// `_set_log_level(levelno)`: the lowest Python level the logger passes now
/// (`logging.CRITICAL + 1` or more: nothing).
#[pyfunction]
pub fn _set_log_level(levelno: i64) {
    let level = match levelno {
        ..=10 => Some(Level::DEBUG),
        11..=20 => Some(Level::INFO),
        21..=30 => Some(Level::WARN),
        31..=40 => Some(Level::ERROR),
        _ => None,
    };
    if let Some(l) = LEVEL.get() {
        l.set(level);
    }
}

fn levelno(level: Level) -> i64 {
    match level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

fn deliver(record: Record) {
    from_tokio_thread(|py| {
        if let Err(e) = emit(py, &record) {
            // A handler that raises is logging's business; this is ours.
            e.write_unraisable(py, None);
        }
    });
}

fn emit(py: Python<'_>, record: &Record) -> PyResult<()> {
    static EMIT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let attributes = PyDict::new(py);
    for (name, value) in &record.attributes {
        match value {
            Value::Str(s) => attributes.set_item(name, s)?,
            Value::Int(n) => attributes.set_item(name, n)?,
            Value::Float(f) => attributes.set_item(name, f)?,
            Value::Bool(b) => attributes.set_item(name, b)?,
        }
    }
    EMIT.import(py, "messenger_handover._logging", "_emit")?.call1((
        levelno(record.level),
        record.kind,
        &record.message,
        attributes,
    ))?;
    Ok(())
}

/// `run_cli(argv)`: the `messenger-handover` command, with the GIL released
/// for as long as it runs; returns the exit code.
#[pyfunction]
pub fn run_cli(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> i32 {
    py.detach(|| messenger_handover_cli::run(argv))
}
