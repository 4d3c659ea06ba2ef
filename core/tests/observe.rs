//! What the core tells `tracing` about a retried call: one span per HTTP
//! attempt with OpenTelemetry's attribute names, start/end events, a retry
//! event with its wait; nothing when nobody listens; never a secret.
//! Against the emulator over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::fault;
use messenger_handover::observe::{Bridge, Record, Value, ATTEMPT_END, ATTEMPT_START, RETRY};
use messenger_handover::{hmac_sha256_hex, BatchOp, Client, ConversationsQuery};
use messenger_handover_emulator::{Emulator, EmulatorConfig};
use serde_json::json;
use tracing::Level;

const PSID: &str = "2468013579";
const UNAVAILABLE: &str = r#"{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"Aobserve5xx"}}"#;

async fn retried_call(emu: &Emulator) {
    fault(
        emu,
        json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "status", "status": 503, "body": UNAVAILABLE}}),
    );
    let client = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .page_id(emu.page_id())
        .app_secret(&emu.apps().primary.secret)
        .retry_base_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    client.thread_owner(PSID).await.unwrap();
}

type Seen = Arc<Mutex<Vec<Record>>>;

fn capture(level: Option<Level>) -> (Bridge<impl Fn(Record) + Send + Sync + 'static>, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let bridge = Bridge::new(move |r: Record| sink.lock().unwrap().push(r));
    bridge.level().set(level);
    (bridge, seen)
}

fn int(r: &Record, name: &str) -> Option<i64> {
    match r.get(name) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

fn text<'a>(r: &'a Record, name: &str) -> Option<&'a str> {
    match r.get(name) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

#[tokio::test]
async fn a_retried_call_is_one_record_per_attempt_and_a_retry_event_each_time() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (bridge, seen) = capture(Some(Level::TRACE));
    {
        let _guard = tracing::subscriber::set_default(bridge);
        retried_call(&emu).await;
    }
    let records = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [ATTEMPT_START, ATTEMPT_END, RETRY, ATTEMPT_START, ATTEMPT_END, RETRY, ATTEMPT_START, ATTEMPT_END],
        "{records:#?}"
    );
    let ends: Vec<&Record> = records.iter().filter(|r| r.kind == ATTEMPT_END).collect();
    for (i, end) in ends.iter().enumerate() {
        assert_eq!(end.level, Level::DEBUG);
        assert_eq!(text(end, "http.request.method"), Some("GET"));
        let path = text(end, "url.path").unwrap();
        assert!(path.ends_with(&format!("/{}/thread_owner", emu.page_id())), "{path}");
        assert_eq!(text(end, "server.address"), Some("127.0.0.1"));
        assert_eq!(int(end, "server.port"), Some(i64::from(emu.port())));
        // OpenTelemetry: the resend count only on a resend.
        assert_eq!(int(end, "http.request.resend_count"), (i > 0).then_some(i as i64));
        assert!(int(end, "graph.duration_ms").is_some());
        // Each start pairs with its end.
        let start = records
            .iter()
            .find(|r| r.kind == ATTEMPT_START && r.get("graph.attempt_id") == end.get("graph.attempt_id"));
        assert_eq!(start.map(|s| s.level), Some(Level::TRACE));
    }
    for failed in &ends[..2] {
        assert_eq!(int(failed, "http.response.status_code"), Some(503));
        assert_eq!(text(failed, "error.type"), Some("server"));
        assert_eq!(text(failed, "graph.fbtrace_id"), Some("Aobserve5xx"));
        assert!(failed.message.contains("-> 503 (server)"), "{}", failed.message);
    }
    assert_eq!(int(ends[2], "http.response.status_code"), Some(200));
    assert_eq!(ends[2].get("error.type"), None);
    // The emulator sends the usage headers and a trace id on every answer.
    assert!(matches!(ends[2].get("graph.usage.call_count"), Some(Value::Float(_))), "{:?}", ends[2]);
    assert!(text(ends[2], "graph.fbtrace_id").is_some());
    let retries: Vec<&Record> = records.iter().filter(|r| r.kind == RETRY).collect();
    for (i, retry) in retries.iter().enumerate() {
        assert_eq!(retry.level, Level::WARN);
        assert_eq!(text(retry, "error.type"), Some("server"));
        assert_eq!(int(retry, "http.request.resend_count"), Some(i as i64 + 1));
        assert!(int(retry, "graph.wait_ms").is_some());
        assert!(retry.message.starts_with("retrying GET /"), "{}", retry.message);
    }
    // No token, appsecret_proof, query string or PSID (it travels in the query).
    let token = &emu.apps().primary.token;
    let secret = &emu.apps().primary.secret;
    let proof = hmac_sha256_hex(secret.as_bytes(), token.as_bytes());
    let all = format!("{records:?}");
    for secret in [token.as_str(), proof.as_str(), secret.as_str(), "appsecret_proof", "?", PSID] {
        assert!(!all.contains(secret), "{secret:?} in {all}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn nothing_reaches_a_silent_bridge_and_levels_filter() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (bridge, seen) = capture(None);
    {
        let _guard = tracing::subscriber::set_default(bridge);
        retried_call(&emu).await;
    }
    assert!(seen.lock().unwrap().is_empty());
    // WARN: the retries and nothing else (what Python's default level passes).
    let (bridge, seen) = capture(Some(Level::WARN));
    {
        let _guard = tracing::subscriber::set_default(bridge);
        retried_call(&emu).await;
    }
    let kinds: Vec<&str> = seen.lock().unwrap().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RETRY, RETRY]);
    emu.shutdown().await;
}

/// A batch request retried as a whole (a 503 on the request) then for one
/// operation (a 503 in its slot): each HTTP attempt counts its resends like a
/// single call's, and each retry is the same WARN event with its wait.
#[tokio::test]
async fn a_retried_batch_counts_its_resends_and_emits_the_retry_event() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    fault(
        &emu,
        json!({"match": {"method": "POST", "in_batch": false}, "action": {"type": "status", "status": 503, "body": UNAVAILABLE}}),
    );
    fault(&emu, json!({"match": {"batch_index": 1}, "action": {"type": "status", "status": 503, "body": UNAVAILABLE}}));
    let client = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .page_id(emu.page_id())
        .retry_base_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    let (bridge, seen) = capture(Some(Level::DEBUG));
    let results = {
        let _guard = tracing::subscriber::set_default(bridge);
        let ops = ["1111", "2222", "3333"].map(BatchOp::thread_owner).to_vec();
        client.batch(ops).await.unwrap()
    };
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let records = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [ATTEMPT_END, RETRY, ATTEMPT_END, RETRY, ATTEMPT_END], "{records:#?}");
    let ends: Vec<&Record> = records.iter().filter(|r| r.kind == ATTEMPT_END).collect();
    let resends: Vec<Option<i64>> = ends.iter().map(|e| int(e, "http.request.resend_count")).collect();
    assert_eq!(resends, [None, Some(1), Some(2)]);
    for end in &ends {
        assert_eq!(text(end, "http.request.method"), Some("POST"));
        assert_eq!(text(end, "url.path"), Some("/"));
    }
    assert_eq!(int(ends[0], "http.response.status_code"), Some(503));
    assert_eq!(text(ends[0], "error.type"), Some("server"));
    // The second request answered 200; one of its operations failed.
    assert_eq!(int(ends[1], "http.response.status_code"), Some(200));
    let retries: Vec<&Record> = records.iter().filter(|r| r.kind == RETRY).collect();
    for (i, retry) in retries.iter().enumerate() {
        assert_eq!(retry.level, Level::WARN);
        assert_eq!(text(retry, "http.request.method"), Some("POST"));
        assert_eq!(text(retry, "error.type"), Some("server"));
        assert_eq!(int(retry, "http.request.resend_count"), Some(i as i64 + 1));
        assert!(int(retry, "graph.wait_ms").is_some());
        assert!(retry.message.starts_with("retrying POST / in "), "{}", retry.message);
    }
    assert_eq!(int(retries[0], "graph.batch.operations"), Some(3));
    assert_eq!(int(retries[1], "graph.batch.operations"), Some(1));
    assert!(retries[1].message.ends_with("(1 batch operation)"), "{}", retries[1].message);
    let all = format!("{records:?}");
    assert!(!all.contains(&emu.apps().primary.token) && !all.contains("2222"), "{all}");
    emu.shutdown().await;
}

/// The pager prefetches the next page in a task of its own: its attempt
/// reports to the caller's subscriber, a scoped one too (the Node binding
/// scopes one per JavaScript environment). On a multi-thread runtime the task
/// runs on a worker thread, where the caller's scoped default is not set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prefetch_reports_to_the_callers_scoped_subscriber() {
    let emu = Emulator::start(EmulatorConfig { conversations: 30, ..EmulatorConfig::default() }).await.unwrap();
    let client = common::bot(&emu);
    let (bridge, seen) = capture(Some(Level::DEBUG));
    let items = {
        let _guard = tracing::subscriber::set_default(bridge);
        let mut pager = client.conversations(ConversationsQuery::new().page_size(10)).unwrap();
        let mut n = 0;
        while pager.next_item().await.unwrap().is_some() {
            n += 1;
        }
        n
    };
    assert!(items > 10, "{items}");
    let sent = common::seen(&emu, "GET", "/conversations");
    assert!(sent >= 2, "{sent}");
    let ends = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.kind == ATTEMPT_END)
        .filter(|r| text(r, "url.path").is_some_and(|p| p.ends_with("/conversations")))
        .count();
    assert_eq!(ends, sent, "one attempt record per request the emulator saw, prefetches included");
    emu.shutdown().await;
}

/// A Rust application sees the span itself, with the attributes recorded.
#[tokio::test]
async fn the_span_carries_the_opentelemetry_attributes() {
    use tracing_subscriber::fmt::format::FmtSpan;
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let out = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || Writer(sink.clone()))
        .finish();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        retried_call(&emu).await;
    }
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    let closes: Vec<&str> = text.lines().filter(|l| l.contains("http.client.request") && l.contains("close")).collect();
    assert_eq!(closes.len(), 3, "{text}");
    for field in [
        "http.request.method=\"GET\"",
        "server.address=\"127.0.0.1\"",
        "http.response.status_code=503",
        "error.type=\"server\"",
        "graph.fbtrace_id=\"Aobserve5xx\"",
        "http.request.resend_count=1",
    ] {
        assert!(closes.iter().any(|l| l.contains(field)), "{field} not in {closes:#?}");
    }
    assert!(closes[2].contains("http.response.status_code=200"), "{}", closes[2]);
    assert!(!text.contains(&emu.apps().primary.token));
    emu.shutdown().await;
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
