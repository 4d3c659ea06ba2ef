//! The core's tracing events handed to `diagnostics.js` (a
//! diagnostics_channel TracingChannel and `NODE_DEBUG=messenger-handover`),
//! and the command line's `runCli(argv)`.
//!
//! `diagnostics.js` sets the level from what is listening (a channel
//! subscriber wants every attempt's start, NODE_DEBUG its end); at level 0 an
//! event costs the core one relaxed atomic load and never reaches JS.

use std::sync::OnceLock;

use messenger_handover::observe::{Bridge, BridgeLevel, Record, Value};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Map, Number, Value as Json};
use tracing::Level;

/// One event of the core: `kind` is `http.attempt.start`, `http.attempt.end`,
/// `http.retry` or `http.throttle_wait`; `attributes` the OpenTelemetry
/// names and `graph.*`.
#[napi(object)]
pub struct CoreEvent {
    pub kind: String,
    pub level: String,
    pub message: String,
    pub attributes: serde_json::Value,
}

/// Weak: a pending event never keeps the process alive.
type Sink = ThreadsafeFunction<CoreEvent, (), CoreEvent, Status, false, true>;

static SINK: OnceLock<Sink> = OnceLock::new();
static LEVEL: OnceLock<BridgeLevel> = OnceLock::new();

/// Installs the bridge, once per process, delivering to `sink`.
#[napi]
pub fn observe(sink: Function<CoreEvent, ()>) -> Result<()> {
    if SINK.get().is_some() {
        return Ok(());
    }
    let tsfn = sink.build_threadsafe_function().weak::<true>().callee_handled::<false>().build()?;
    if SINK.set(tsfn).is_err() {
        return Ok(());
    }
    let bridge = Bridge::new(deliver);
    let level = bridge.level();
    if tracing::subscriber::set_global_default(bridge).is_ok() {
        let _ = LEVEL.set(level);
    }
    Ok(())
}

/// 0: nothing; 2: retries and waits; 4: and each attempt's end; 5: and its start.
#[napi]
pub fn set_observe_level(level: u32) {
    let level = match level {
        0 => None,
        1 => Some(Level::ERROR),
        2 => Some(Level::WARN),
        3 => Some(Level::INFO),
        4 => Some(Level::DEBUG),
        _ => Some(Level::TRACE),
    };
    if let Some(l) = LEVEL.get() {
        l.set(level);
    }
}

fn deliver(record: Record) {
    let Some(sink) = SINK.get() else { return };
    let attributes: Map<String, Json> = record
        .attributes
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Str(s) => Json::String(s),
                Value::Int(n) => Json::Number(n.into()),
                Value::Float(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
                Value::Bool(b) => Json::Bool(b),
            };
            (name.to_owned(), value)
        })
        .collect();
    let event = CoreEvent {
        kind: record.kind.to_owned(),
        level: record.level.as_str().to_owned(),
        message: record.message,
        attributes: Json::Object(attributes),
    };
    // Non-blocking into an unbounded queue: a tokio thread never waits on JS.
    let _ = sink.call(event, ThreadsafeFunctionCallMode::NonBlocking);
}

/// `runCli(argv)`: the `messenger-handover` command on this thread (the
/// package's `bin` has nothing else to do); returns the exit code.
#[napi]
pub fn run_cli(argv: Vec<String>) -> i32 {
    messenger_handover_cli::run(argv)
}
