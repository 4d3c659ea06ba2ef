//! The core's tracing events handed to `diagnostics.js` (a
//! diagnostics_channel TracingChannel and `NODE_DEBUG=messenger-handover`),
//! and the command line's `runCli(argv)`.
//!
//! One bridge per Node environment (the main thread and each worker_threads
//! Worker): `diagnostics.js` registers its environment's sink when it loads,
//! and every call a client makes runs under the bridge of the environment
//! that made it ([`scoped`], applied by `errors::spawn`), so a worker's calls
//! publish to that worker's diagnostics_channel, and the main thread's to
//! its own. A JavaScript environment runs on one OS thread, so the bridge
//! and its level are thread-locals of that thread.
//!
//! `diagnostics.js` sets the level from what is listening (a channel
//! subscriber wants every attempt's start, NODE_DEBUG its end); at level 0 an
//! event costs the core one relaxed atomic load and never reaches JS.

use std::cell::RefCell;
use std::future::Future;

use messenger_handover::observe::{Bridge, BridgeLevel, Record, Value};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Map, Number, Value as Json};
use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Level};

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

/// Weak: a pending event never keeps the process (or a worker) alive.
type Sink = ThreadsafeFunction<CoreEvent, (), CoreEvent, Status, false, true>;

/// This environment's bridge, as a `tracing` dispatcher, and its level.
struct Registered {
    dispatch: Dispatch,
    level: BridgeLevel,
}

thread_local! {
    static REGISTERED: RefCell<Option<Registered>> = const { RefCell::new(None) };
}

/// Installs the bridge of the calling environment (once per environment),
/// delivering to `sink` on that environment's event loop.
#[napi]
pub fn observe(env: Env, sink: Function<CoreEvent, ()>) -> Result<()> {
    if REGISTERED.with(|r| r.borrow().is_some()) {
        return Ok(());
    }
    let tsfn: Sink = sink.build_threadsafe_function().weak::<true>().callee_handled::<false>().build()?;
    let bridge = Bridge::new(move |record: Record| deliver(&tsfn, record));
    let level = bridge.level();
    REGISTERED.with(|r| *r.borrow_mut() = Some(Registered { dispatch: Dispatch::new(bridge), level }));
    // A worker that ends drops its bridge with it (and the threadsafe
    // function before its environment is gone); calls still in flight
    // then deliver nowhere.
    env.add_env_cleanup_hook((), |()| {
        REGISTERED.with(|r| r.borrow_mut().take());
    })?;
    Ok(())
}

/// 0: nothing; 2: retries and waits; 4: and each attempt's end; 5: and its start.
/// For the calling environment only.
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
    REGISTERED.with(|r| {
        if let Some(reg) = r.borrow().as_ref() {
            reg.level.set(level);
        }
    });
}

/// `fut` under the calling environment's bridge: what it (and the tasks it
/// spawns with the current subscriber, the pager's prefetch) reports goes to
/// this environment's sink. Called on the JavaScript thread.
pub fn scoped<F: Future>(fut: F) -> tracing::instrument::WithDispatch<F> {
    let dispatch = REGISTERED.with(|r| r.borrow().as_ref().map(|reg| reg.dispatch.clone()));
    fut.with_subscriber(dispatch.unwrap_or_else(Dispatch::none))
}

/// `f` under the calling environment's bridge, run on the JavaScript thread
/// (what [`scoped`] is for a future).
pub fn in_scope<T>(f: impl FnOnce() -> T) -> T {
    let dispatch = REGISTERED.with(|r| r.borrow().as_ref().map(|reg| reg.dispatch.clone()));
    tracing::dispatcher::with_default(&dispatch.unwrap_or_else(Dispatch::none), f)
}

fn deliver(sink: &Sink, record: Record) {
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
    // After the environment is gone the call fails, and the event is dropped.
    let _ = sink.call(event, ThreadsafeFunctionCallMode::NonBlocking);
}

/// `runCli(argv)`: the `messenger-handover` command on this thread (the
/// package's `bin` has nothing else to do); returns the exit code.
#[napi]
pub fn run_cli(argv: Vec<String>) -> i32 {
    messenger_handover_cli::run(argv)
}
