//! What the core says about its HTTP attempts, and a small `tracing`
//! subscriber that hands it to the Python and Node packages.
//!
//! Every attempt is a `tracing` span named and shaped by OpenTelemetry's HTTP
//! client conventions (<https://opentelemetry.io/docs/specs/semconv/http/http-spans/>):
//! `http.request.method`, `url.path` (never the query: it may hold the
//! appsecret_proof), `server.address`, `server.port`,
//! `http.request.resend_count`, then `http.response.status_code`,
//! `error.type` (the error kind) and `graph.fbtrace_id` plus the usage
//! percentages once the answer is in. Inside it, a TRACE event
//! ([`ATTEMPT_START`]) opens the attempt and a DEBUG event ([`ATTEMPT_END`])
//! closes it with every attribute; a retry ([`RETRY`]) and a throttle wait
//! ([`THROTTLE_WAIT`]) are WARN events with the wait. A Graph batch request
//! is a call like the others (`POST /`): its resends count up, and its retry
//! also says how many operations go again (`graph.batch.operations`). None
//! carries the token, the appsecret_proof, a query string or a body.
//!
//! Tasks the core spawns (the pager's prefetch) carry the caller's
//! subscriber, so a scoped one (`with_default`, or the Node binding's one per
//! JavaScript environment) sees every attempt made for its calls.
//!
//! The bindings cannot lean on a Rust subscriber: they install [`Bridge`],
//! which sees only the core's events, and whose whole cost while the
//! language side listens to nothing is one relaxed atomic load per event.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// The target of every span and event below.
pub const TARGET: &str = "messenger_handover::http";
/// The name of the per-attempt span.
pub const SPAN: &str = "http.client.request";
/// Event names (`Metadata::name`), also the `kind` of a [`Record`].
pub const ATTEMPT_START: &str = "http.attempt.start";
pub const ATTEMPT_END: &str = "http.attempt.end";
pub const RETRY: &str = "http.retry";
pub const THROTTLE_WAIT: &str = "http.throttle_wait";

/// Tells the start and end events of one attempt apart from the others in
/// flight (a diagnostics_channel subscriber needs the pair).
pub(crate) fn next_attempt_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Relaxed)
}

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// One event of the core, as the bindings get it.
#[derive(Debug, Clone)]
pub struct Record {
    /// [`ATTEMPT_START`], [`ATTEMPT_END`], [`RETRY`] or [`THROTTLE_WAIT`].
    pub kind: &'static str,
    pub level: Level,
    /// One readable line, e.g. `GET /v26.0/me/thread_owner -> 200 in 3 ms`.
    pub message: String,
    /// OpenTelemetry names first, then `graph.*`.
    pub attributes: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attributes.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// The most verbose level a bridge passes on: a `tracing` level, or `None`
/// for nothing. Shared between the subscriber and whoever knows what the
/// language side listens to.
#[derive(Debug, Clone, Default)]
pub struct BridgeLevel(Arc<AtomicU8>);

impl BridgeLevel {
    pub fn set(&self, level: Option<Level>) {
        self.0.store(level.map_or(0, rank), Relaxed);
    }

    fn passes(&self, level: &Level) -> bool {
        rank(*level) <= self.0.load(Relaxed)
    }
}

fn rank(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// A `tracing` subscriber that turns the core's events into [`Record`]s for
/// `sink`. It never enables a span, nor anything of another crate.
pub struct Bridge<F> {
    level: BridgeLevel,
    sink: F,
}

impl<F: Fn(Record) + Send + Sync + 'static> Bridge<F> {
    /// Starts silent; `level()` turns it up.
    pub fn new(sink: F) -> Self {
        Bridge { level: BridgeLevel::default(), sink }
    }

    pub fn level(&self) -> BridgeLevel {
        self.level.clone()
    }
}

fn ours(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.target() == TARGET
}

impl<F: Fn(Record) + Send + Sync + 'static> Subscriber for Bridge<F> {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // Everything else (h2, hyper, ...) is off for good: no cost at all.
        if ours(meta) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        ours(meta) && self.level.passes(meta.level())
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: `enabled` refuses every span.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &SpanRecord<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut visitor = Collect { message: String::new(), attributes: Vec::new() };
        event.record(&mut visitor);
        (self.sink)(Record {
            kind: kind_of(meta.name()),
            level: *meta.level(),
            message: visitor.message,
            attributes: visitor.attributes,
        });
    }
}

fn kind_of(name: &str) -> &'static str {
    [ATTEMPT_START, ATTEMPT_END, RETRY, THROTTLE_WAIT].into_iter().find(|k| *k == name).unwrap_or("event")
}

struct Collect {
    message: String,
    attributes: Vec<(&'static str, Value)>,
}

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.attributes.push((field.name(), Value::Str(value.to_owned())));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push((field.name(), Value::Int(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.attributes.push((field.name(), Value::Int(i64::try_from(value).unwrap_or(i64::MAX))));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push((field.name(), Value::Float(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push((field.name(), Value::Bool(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.attributes.push((field.name(), Value::Str(format!("{value:?}"))));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn silent_until_a_level_is_set_and_only_for_the_core() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let bridge = Bridge::new(move |r: Record| sink.lock().unwrap().push(r));
        let level = bridge.level();
        tracing::subscriber::with_default(bridge, || {
            tracing::event!(name: "http.retry", target: TARGET, tracing::Level::WARN, x = 1, "off");
            level.set(Some(Level::WARN));
            tracing::event!(name: "http.attempt.end", target: TARGET, tracing::Level::DEBUG, "below the level");
            tracing::warn!(target: "someone_else", "not ours");
            tracing::event!(name: "http.retry", target: TARGET, tracing::Level::WARN, url.path = "/v1/me", graph.wait_ms = 5u64, "on");
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].kind, RETRY);
        assert_eq!(seen[0].message, "on");
        assert_eq!(seen[0].get("url.path"), Some(&Value::Str("/v1/me".into())));
        assert_eq!(seen[0].get("graph.wait_ms"), Some(&Value::Int(5)));
    }
}
