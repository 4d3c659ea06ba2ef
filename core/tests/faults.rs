//! The fault and throttle suite: the client against the emulator's fault
//! injection and rate limiter, over real HTTP on 127.0.0.1. For every fault
//! the outcome, the number of requests the emulator saw, and that a POST the
//! Graph API may have run is never sent twice.
//!
//! The second half sends the emulator malformed requests (raw reqwest and raw
//! TCP) and checks it answers the real Graph errors and keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{bot, builder, emulator, fault, log, refusing_socket, seen};
use messenger_handover::{Client, ErrorKind, PAGE_INBOX_APP_ID};
use messenger_handover_emulator::{Emulator, EmulatorConfig, Mode, RateLimitConfig, PRIMARY_APP_ID};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PSID: &str = "2468013579";

fn owner(emu: &Emulator, psid: &str) -> Option<String> {
    emu.state()["threads"][psid]["owner"].as_str().map(str::to_owned)
}

/// A Graph 5xx body, as the Graph API sends it when it is having a bad day.
const UNAVAILABLE: &str = r#"{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"Afault5xx"}}"#;
const HTML_502: &str =
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>";

fn status_5xx(method: &str, count: u32) -> Value {
    json!({"match": {"method": method}, "count": count, "action": {"type": "status", "status": 503, "body": UNAVAILABLE}})
}

/// `X-Business-Use-Case-Usage` for the emulated page.
fn buc(call_count: u32, regain_minutes: f64) -> String {
    json!({ messenger_handover_emulator::PAGE_ID: [{
        "type": "messenger", "call_count": call_count, "total_cputime": 1, "total_time": 1,
        "estimated_time_to_regain_access": regain_minutes,
    }]})
    .to_string()
}

fn throttled(method: &str, count: u32, code: u32, regain_minutes: f64) -> Value {
    let message = if code == 80006 {
        "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again."
    } else {
        "(#613) Calls to this api have exceeded the rate limit."
    };
    json!({"match": {"method": method}, "count": count, "action": {"type": "graph_error", "status": 400,
        "headers": {"X-Business-Use-Case-Usage": buc(100, regain_minutes)},
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Athrottled"}}})
}

// ---------------------------------------------------------------- 5xx bursts

#[tokio::test]
async fn get_recovers_from_a_5xx_burst_after_n_retries() {
    let emu = emulator().await;
    let client = bot(&emu);
    for n in 1..=3u32 {
        emu.clear_request_log();
        fault(&emu, status_5xx("GET", n));
        let owner = client.thread_owner(PSID).await.unwrap().expect("owned");
        assert_eq!(owner.app_id, PRIMARY_APP_ID);
        assert_eq!(seen(&emu, "GET", "/thread_owner"), n as usize + 1, "{n} failures then one success");
        let statuses: Vec<_> = log(&emu).iter().map(|r| r["status"].as_u64().unwrap()).collect();
        let mut expected = vec![503; n as usize];
        expected.push(200);
        assert_eq!(statuses, expected);
    }
}

#[tokio::test]
async fn get_gives_up_after_max_retries() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, status_5xx("GET", 10));
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    let g = err.graph().unwrap();
    assert_eq!((g.code, g.http_status, g.is_transient), (2, 503, true));
    assert_eq!(g.fbtrace_id.as_deref(), Some("Afault5xx"));
    assert_eq!(seen(&emu, "GET", "/thread_owner"), 4, "the first try and max_retries=3 retries");

    // max_retries(0): exactly one request.
    emu.reset();
    fault(&emu, status_5xx("GET", 10));
    let once = builder(&emu).max_retries(0).build().unwrap();
    assert_eq!(once.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::Server);
    assert_eq!(seen(&emu, "GET", "/thread_owner"), 1);
}

#[tokio::test]
async fn get_retries_a_graph_transient_error_and_secondary_receivers_too() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(
        &emu,
        json!({"match": {"method": "GET", "path_contains": "secondary_receivers"}, "count": 2,
            "action": {"type": "graph_error", "error": {"message": "An unknown error occurred", "code": 1, "type": "OAuthException"}}}),
    );
    let apps = client.secondary_receivers().await.unwrap();
    assert_eq!(apps.len(), 2);
    assert_eq!(seen(&emu, "GET", "/secondary_receivers"), 3);
    let first = &log(&emu)[0];
    assert_eq!((first["status"].as_u64(), first["error_code"].as_i64()), (Some(500), Some(1)));
}

#[tokio::test]
async fn post_is_never_resent_after_a_5xx() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, status_5xx("POST", 5));
    let err = client.pass_thread_control_to_page_inbox(PSID, Some("to a human")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 1, "a POST that may have run is sent once");
}

// ------------------------------------------------------ connection resets

#[tokio::test]
async fn reset_before_the_response_get_is_retried() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "reset"}}));
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
    let entries = log(&emu);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries.iter().filter(|r| r["fault"] == "reset" && r["status"] == 0).count(), 2);

    emu.clear_request_log();
    fault(&emu, json!({"match": {"method": "GET"}, "count": 10, "action": {"type": "reset"}}));
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_timeout());
    assert_eq!(err.http_status(), None);
    assert_eq!(log(&emu).len(), 4);
}

#[tokio::test]
async fn reset_before_the_response_post_is_not_resent() {
    let emu = emulator().await;
    let client = bot(&emu);
    // Warm the pool first: the POST goes out on a reused connection, as in production.
    client.thread_owner(PSID).await.unwrap();
    emu.clear_request_log();
    fault(&emu, json!({"match": {"method": "POST"}, "count": 5, "action": {"type": "reset"}}));
    let err = client.take_thread_control(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(seen(&emu, "POST", "/take_thread_control"), 1);
    assert_eq!(log(&emu).len(), 1);
}

#[tokio::test]
async fn reset_mid_body_get_is_retried() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, json!({"match": {"method": "GET"}, "count": 1, "action": {"type": "reset_mid_body"}}));
    let owner = client.thread_owner(PSID).await.unwrap().expect("owned");
    assert_eq!(owner.app_id, PRIMARY_APP_ID);
    let entries = log(&emu);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["fault"], "reset_mid_body");

    emu.clear_request_log();
    fault(&emu, json!({"match": {"method": "GET"}, "count": 10, "action": {"type": "reset_mid_body"}}));
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "a body cut short is a transport failure: {err}");
    assert_eq!(log(&emu).len(), 4);
}

#[tokio::test]
async fn reset_mid_body_post_is_not_resent() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, json!({"match": {"method": "POST"}, "count": 5, "action": {"type": "reset_mid_body"}}));
    let err = client.pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_transport_error_and_post_is_retried_safely() {
    let (socket, url) = refusing_socket();
    let once = Client::builder("EAAGrefused-token-value").base_url(&url).max_retries(0).build().unwrap();
    let err = once.take_thread_control(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_timeout());

    // A refused connection never carried the request, so a POST is sent
    // again: the port starts listening 300 ms in, while the client backs
    // off (2 s base, 5 retries), and the POST arrives there exactly once.
    let client = Client::builder("EAAGrefused-token-value")
        .base_url(&url)
        .retry_base_delay(Duration::from_secs(2))
        .max_retries(5)
        .build()
        .unwrap();
    let call = tokio::spawn(async move { client.take_thread_control(PSID, None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listener = socket.listen(64).unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { axum::Json(json!({"success": true})) }
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    call.await.unwrap().expect("the POST was resent once the port listened");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "sent once to the server, after the refusal");
    server.abort();
}

// ------------------------------------------------------------------ delays

#[tokio::test]
async fn delay_past_the_timeout_is_a_timeout() {
    let emu = emulator().await;
    let client = builder(&emu).timeout(Duration::from_millis(250)).max_retries(0).build().unwrap();
    // A 20 s delay: an upper bound of 10 s tells a timeout from the answer on a loaded box.
    fault(&emu, json!({"match": {"method": "GET"}, "action": {"type": "delay", "ms": 20_000}}));
    let started = Instant::now();
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let logged = log(&emu);
    assert_eq!(logged.len(), 1, "the abandoned request is in the log: {logged:?}");
    assert_eq!((logged[0]["status"].as_u64(), logged[0]["fault"].as_str()), (Some(0), Some("delay")), "still delayed");

    // With retries, a GET whose first attempt timed out succeeds on the next.
    let retrying = builder(&emu).timeout(Duration::from_millis(250)).build().unwrap();
    fault(&emu, json!({"match": {"method": "GET"}, "action": {"type": "delay", "ms": 1500}}));
    assert!(retrying.thread_owner(PSID).await.unwrap().is_some());

    // Every attempt slow: the last timeout is reported, after 1 + 3 attempts.
    fault(&emu, json!({"match": {"method": "GET"}, "count": 4, "action": {"type": "delay", "ms": 1500}}));
    let started = Instant::now();
    let err = retrying.thread_owner(PSID).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(4 * 250), "{:?}", started.elapsed());
    assert_eq!(emu.state()["faults_pending"], 0, "all four delays were consumed: four attempts");
    assert_eq!(seen(&emu, "GET", "/thread_owner"), 1 + 2 + 4, "1, then 1 slow + 1 fast, then 4 slow");
}

#[tokio::test]
async fn delayed_post_that_timed_out_is_not_resent() {
    let emu = emulator().await;
    let client = builder(&emu).timeout(Duration::from_millis(250)).build().unwrap();
    fault(&emu, json!({"match": {"method": "POST"}, "count": 5, "action": {"type": "delay", "ms": 800}}));
    let err = client.pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(emu.state()["faults_pending"], 1, "exactly one use of the delay fault: one POST sent");
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 1);
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Never twice. Whether the call ran depends on the server noticing the
    // hang-up (hyper drops the handler: status stays 0); the log and the
    // thread must agree either way, as they would have to on the Graph API.
    let posts = log(&emu);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let ran = posts[0]["status"] == 200;
    assert!(ran || posts[0]["status"] == 0, "{posts:?}");
    let inbox_owns = owner(&emu, PSID).as_deref() == Some("263902037430900");
    assert_eq!(ran, inbox_owns, "log {posts:?} and thread state disagree");
}

// ------------------------------------------------------ malformed bodies

#[tokio::test]
async fn truncated_json_is_a_protocol_error_and_not_retried() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "count": 5, "action": {"type": "malformed", "status": 200, "body": "{\"data\": [{\"thread_owner\": {\"app_id\": \"11"}}),
    );
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert_eq!(err.http_status(), Some(200));
    assert_eq!(log(&emu).len(), 1, "a 200 that cannot be read is not retried");

    for body in ["", "null", "[]", "{}", "{\"data\": {}}", "not json at all", "{\"data\":[{\"thread_owner\":{}}]}"] {
        emu.clear_faults();
        fault(&emu, json!({"action": {"type": "malformed", "status": 200, "body": body}}));
        let err = client.thread_owner(PSID).await.unwrap_err();
        assert_eq!((err.kind(), err.http_status()), (ErrorKind::Protocol, Some(200)), "{body:?}: {err}");
    }
}

#[tokio::test]
async fn html_error_pages_carry_the_status_5xx_as_server_errors() {
    let emu = emulator().await;
    let once = builder(&emu).max_retries(0).build().unwrap();
    for status in [400u16, 404, 500, 502, 503, 504] {
        fault(
            &emu,
            json!({"action": {"type": "malformed", "status": status, "content_type": "text/html", "body": HTML_502}}),
        );
        let err = once.thread_owner(PSID).await.unwrap_err();
        // DESIGN's error table: every HTTP 5xx is `server`, whatever its body.
        let kind = if status >= 500 { ErrorKind::Server } else { ErrorKind::Protocol };
        assert_eq!((err.kind(), err.http_status()), (kind, Some(status)), "{err}");
        assert!(!err.to_string().contains("<html"), "the page is not pasted into the message: {err}");
    }
    // A `status` fault with an HTML body behaves the same.
    fault(&emu, json!({"action": {"type": "status", "status": 502, "body": HTML_502}}));
    let err = once.thread_owner(PSID).await.unwrap_err();
    assert_eq!((err.kind(), err.http_status()), (ErrorKind::Server, Some(502)));

    // An HTML 502 from a proxy is transient: a GET is retried through it...
    emu.clear_request_log();
    let client = bot(&emu);
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "malformed", "status": 502, "content_type": "text/html", "body": HTML_502}}),
    );
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
    assert_eq!(log(&emu).len(), 3);
    // ... a 4xx page is not.
    emu.clear_request_log();
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "malformed", "status": 404, "content_type": "text/html", "body": "<html>Not Found</html>"}}),
    );
    assert_eq!(client.thread_owner(PSID).await.unwrap_err().http_status(), Some(404));
    assert_eq!(log(&emu).len(), 1);
    // ... and a POST is not resent through either.
    emu.clear_request_log();
    emu.clear_faults();
    fault(
        &emu,
        json!({"match": {"method": "POST"}, "count": 3, "action": {"type": "malformed", "status": 502, "content_type": "text/html", "body": HTML_502}}),
    );
    let err = client.pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert_eq!((err.kind(), err.http_status()), (ErrorKind::Server, Some(502)));
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 1);
}

#[tokio::test]
async fn post_answers_that_are_not_success_true() {
    let emu = emulator().await;
    let client = bot(&emu);
    for body in ["{\"success\": false}", "{}", "{\"success\": \"yes\"}", "{\"success\": tr", "<html>ok</html>"] {
        emu.clear_request_log();
        fault(&emu, json!({"match": {"method": "POST"}, "action": {"type": "malformed", "status": 200, "body": body}}));
        let err = client.take_thread_control(PSID, None).await.unwrap_err();
        assert_eq!((err.kind(), err.http_status()), (ErrorKind::Protocol, Some(200)), "{body:?}: {err}");
        assert_eq!(seen(&emu, "POST", "/take_thread_control"), 1, "{body:?}");
    }
}

#[tokio::test]
async fn a_response_over_the_cap_is_refused() {
    let emu = emulator().await;
    let client = builder(&emu).max_response_bytes(1024).build().unwrap();
    let big = json!({"data": [{"thread_owner": {"app_id": "1"}, "pad": "x".repeat(4096)}]}).to_string();
    fault(&emu, json!({"action": {"type": "malformed", "status": 200, "body": big}}));
    let err = client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("cap"), "{err}");
}

// ------------------------------------------------------- rate limiting

#[tokio::test]
async fn short_regain_is_waited_out_613_and_80006() {
    let emu = emulator().await;
    let client = bot(&emu);
    // 0.005 minutes = 300 ms.
    for code in [613u32, 80006] {
        emu.reset();
        fault(&emu, throttled("GET", 2, code, 0.005));
        let started = Instant::now();
        assert!(client.thread_owner(PSID).await.unwrap().is_some(), "{code}");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(550), "{code}: waited out two 300 ms regains, took {took:?}");
        assert!(took < Duration::from_secs(5), "{code}: {took:?}");
        assert_eq!(seen(&emu, "GET", "/thread_owner"), 3, "{code}");
        let codes: Vec<_> = log(&emu).iter().map(|r| r["error_code"].as_i64()).collect();
        assert_eq!(codes, vec![Some(i64::from(code)), Some(i64::from(code)), None]);
    }
}

#[tokio::test]
async fn throttled_post_did_not_run_so_it_is_resent_once_per_refusal() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, throttled("POST", 2, 80006, 0.002));
    client.pass_thread_control_to_page_inbox(PSID, Some("busy")).await.unwrap();
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 3);
    assert_eq!(owner(&emu, PSID).as_deref(), Some(PAGE_INBOX_APP_ID));
    // Only the last one reached the thread: exactly one success in the log.
    assert_eq!(log(&emu).iter().filter(|r| r["status"] == 200).count(), 1);
}

#[tokio::test]
async fn long_regain_raises_rate_limit_at_once() {
    let emu = emulator().await;
    for code in [613u32, 80006] {
        emu.reset();
        let client = bot(&emu); // max_retry_wait: the default 60 s
        fault(&emu, throttled("GET", 5, code, 5.0));
        let started = Instant::now();
        let err = client.thread_owner(PSID).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10), "{code}: no sleeping: {:?}", started.elapsed());
        assert_eq!(err.kind(), ErrorKind::RateLimit, "{err}");
        let g = err.graph().unwrap();
        assert_eq!(g.code, i64::from(code));
        assert_eq!(g.retry_after, Some(Duration::from_secs(300)));
        assert!(g.usage.as_ref().is_some_and(|u| u.max_call_count() >= 100.0), "{:?}", g.usage);
        assert_eq!(log(&emu).len(), 1, "{code}: one request, no retry");

        // The client now knows: the next call (a POST too) is refused before sending.
        let err = client.take_thread_control(PSID, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimit);
        let wait = err.graph().unwrap().retry_after.unwrap();
        assert!(wait > Duration::from_secs(290) && wait <= Duration::from_secs(300), "{wait:?}");
        assert_eq!(log(&emu).len(), 1, "{code}: nothing more sent");
    }
}

#[tokio::test]
async fn burst_longer_than_max_retries_ends_in_rate_limit() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(&emu, throttled("POST", 10, 613, 0.0005));
    let err = client.take_thread_control(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit, "{err}");
    assert_eq!(err.graph().unwrap().code, 613);
    assert_eq!(seen(&emu, "POST", "/take_thread_control"), 4, "the first try and 3 retries");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "graph_error", "status": 400, "headers": {"Retry-After": "1"},
            "error": {"message": "(#4) Application request limit reached", "code": 4, "type": "OAuthException"}}}),
    );
    let started = Instant::now();
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950), "waited the second asked for: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(log(&emu).len(), 2);

    // Longer than max_retry_wait: at once, with retry_after.
    emu.clear_request_log();
    let impatient = builder(&emu).max_retry_wait(Duration::from_secs(2)).build().unwrap();
    fault(
        &emu,
        json!({"action": {"type": "graph_error", "status": 400, "headers": {"Retry-After": "30"},
            "error": {"message": "(#17) User request limit reached", "code": 17}}}),
    );
    let started = Instant::now();
    let err = impatient.thread_owner(PSID).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "not the 30 s asked for: {:?}", started.elapsed());
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.graph().unwrap().retry_after, Some(Duration::from_secs(30)));
    assert_eq!(log(&emu).len(), 1);
}

/// DESIGN: "Honour `Retry-After`" — also on a 503, not only on throttling
/// codes. The core only reads Retry-After for `rate_limit` errors, so a
/// 503 with `Retry-After: 1` is retried after the 5 ms backoff instead.
#[tokio::test]
async fn retry_after_on_a_503_is_honoured() {
    let emu = emulator().await;
    let client = bot(&emu);
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "status", "status": 503, "body": UNAVAILABLE, "headers": {"Retry-After": "1"}}}),
    );
    let started = Instant::now();
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

#[tokio::test]
async fn usage_at_100_percent_with_a_short_regain_waits_before_sending() {
    let emu = emulator().await;
    let client = bot(&emu);
    // A successful answer that says: you are at 100%, back in 400 ms.
    let ok = json!({"data": [{"thread_owner": {"app_id": PRIMARY_APP_ID}}]}).to_string();
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "status", "status": 200, "body": ok,
            "headers": {"X-Business-Use-Case-Usage": buc(100, 0.4 / 60.0), "X-App-Usage": "{\"call_count\":100,\"total_time\":5,\"total_cputime\":5}"}}}),
    );
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
    let usage = client.last_usage().expect("usage headers read");
    assert_eq!(usage.max_call_count(), 100.0);
    assert_eq!(usage.app.as_ref().map(|a| a.call_count), Some(100.0));

    let started = Instant::now();
    client.pass_thread_control_to_page_inbox(PSID, None).await.unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "waited before sending: {took:?}");
    assert_eq!(seen(&emu, "POST", "/pass_thread_control"), 1);
    assert_eq!(client.last_usage().map(|u| u.max_call_count()), Some(0.0), "usage back to normal");
}

#[tokio::test]
async fn usage_at_100_percent_without_regain_refuses_before_sending() {
    let emu = emulator().await;
    let client = builder(&emu).max_retry_wait(Duration::from_secs(5)).build().unwrap();
    let ok = json!({"data": [{"thread_owner": {"app_id": PRIMARY_APP_ID}}]}).to_string();
    fault(
        &emu,
        json!({"action": {"type": "status", "status": 200, "body": ok,
            "headers": {"X-Business-Use-Case-Usage": buc(104, 0.0)}}}),
    );
    client.thread_owner(PSID).await.unwrap();
    emu.clear_request_log();
    let started = Instant::now();
    let err = client.take_thread_control(PSID, None).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "not the 60 s pause: {:?}", started.elapsed());
    assert_eq!(err.kind(), ErrorKind::RateLimit, "{err}");
    let g = err.graph().unwrap();
    assert!(g.retry_after.is_some_and(|w| w > Duration::from_secs(5)), "{g:?}");
    assert_eq!(g.http_status, 0, "no answer: nothing was sent");
    assert!(log(&emu).is_empty(), "refused client-side: {:?}", log(&emu));
}

#[tokio::test]
async fn emulator_rate_limiter_80006_burst_under_load() {
    let emu = emulator().await;
    emu.set_rate_limit(RateLimitConfig {
        enabled: true,
        max_calls: 20,
        window_secs: 60,
        code: 80006,
        regain_minutes: 2,
    });
    let client = builder(&emu).max_retry_wait(Duration::from_secs(10)).build().unwrap();
    // 60 concurrent calls against a budget of 20.
    let calls = (0..60).map(|i| {
        let c = client.clone();
        async move { c.thread_owner(&format!("{}", 5_000_000 + i)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let limited: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(limited.iter().all(|e| e.kind() == ErrorKind::RateLimit), "{limited:?}");
    assert_eq!(ok + limited.len(), 60);
    assert_eq!(ok, 20, "exactly the budget succeeds");
    for e in &limited {
        let wait = e.graph().unwrap().retry_after.unwrap();
        assert!(wait > Duration::from_secs(10) && wait <= Duration::from_secs(120), "{wait:?}");
    }
    // Each call sent at most once (no retry of a long throttle), and once the
    // client has seen the headers it stops sending.
    let sent = log(&emu).len();
    assert!(sent <= 60, "{sent}");
    client.thread_owner(PSID).await.unwrap_err();
    assert_eq!(log(&emu).len(), sent, "refused client-side");
}

// ------------------------------------- the emulator under malformed requests

struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
    page: String,
}

impl Raw {
    fn new(emu: &Emulator) -> Raw {
        Raw {
            http: reqwest::Client::new(),
            base: emu.url().to_owned(),
            token: emu.apps().primary.token.clone(),
            page: emu.page_id().to_owned(),
        }
    }

    async fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, String, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.body(body).send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, ct, json)
    }

    async fn post_json(&self, edge: &str, body: &str) -> (u16, Value) {
        let (s, _, j) =
            self.send("POST", &format!("/v26.0/{}/{edge}", self.page), Some("application/json"), body.into()).await;
        (s, j)
    }

    async fn healthy(&self) {
        let (s, _, j) =
            self.send("GET", &format!("/v26.0/{}/thread_owner?recipient={PSID}", self.page), None, vec![]).await;
        assert_eq!(s, 200, "{j}");
        assert!(j["data"][0]["thread_owner"]["app_id"].is_string(), "{j}");
    }
}

/// `(http status, code, subcode)` of a Graph error answer.
type Expected = (u16, i64, Option<i64>);

/// The `Expected` triple of a Graph error answer, checking its shape.
fn graph_error(status: u16, body: &Value) -> Expected {
    let e = &body["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(e["type"].is_string(), "{body}");
    assert!(e["fbtrace_id"].is_string(), "{body}");
    (status, e["code"].as_i64().unwrap(), e["error_subcode"].as_i64())
}

#[tokio::test]
async fn emulator_answers_bad_bodies_with_graph_errors() {
    let emu = emulator().await;
    let raw = Raw::new(&emu);
    let cases: &[(&str, &str, Expected)] = &[
        ("pass_thread_control", "{bad json", (400, 100, None)),
        ("pass_thread_control", "[1, 2, 3]", (400, 100, None)),
        ("pass_thread_control", "\"just a string\"", (400, 100, None)),
        ("pass_thread_control", "{}", (400, 100, None)),
        ("take_thread_control", "{\"metadata\": \"no recipient\"}", (400, 100, None)),
        ("take_thread_control", "{\"recipient\": {}}", (400, 100, None)),
        ("take_thread_control", "{\"recipient\": \"123\"}", (400, 100, None)),
        ("take_thread_control", "{\"recipient\": {\"id\": \"not-a-user\"}}", (400, 100, Some(2018001))),
        ("take_thread_control", "{\"recipient\": {\"id\": null}}", (400, 100, None)),
        ("pass_thread_control", &format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}}}"), (400, 100, None)),
        (
            "pass_thread_control",
            &format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"target_app_id\": \"999\"}}"),
            (400, 100, Some(2018234)),
        ),
        (
            "take_thread_control",
            &format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"metadata\": \"{}\"}}", "m".repeat(1001)),
            (400, 100, None),
        ),
        (
            "extend_thread_control",
            &format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"duration\": 60}}"),
            (400, 100, None),
        ),
    ];
    for (edge, body, expected) in cases {
        let (status, json) = raw.post_json(edge, body).await;
        assert_eq!(graph_error(status, &json), *expected, "{edge} {body}: {json}");
    }
    // Not UTF-8 at all.
    let (s, _, j) = raw
        .send(
            "POST",
            &format!("/v26.0/{}/take_thread_control", raw.page),
            Some("application/json"),
            vec![0xff, 0xfe, 0, 1],
        )
        .await;
    assert_eq!(graph_error(s, &j), (400, 100, None), "{j}");
    raw.healthy().await;
    // Nothing above changed the thread.
    assert_eq!(owner(&emu, PSID).as_deref(), Some(PRIMARY_APP_ID));
}

#[tokio::test]
async fn emulator_answers_wrong_methods_and_paths_with_graph_errors() {
    let emu = emulator().await;
    let raw = Raw::new(&emu);
    let page = raw.page.clone();
    let cases: Vec<(&str, String, Expected)> = vec![
        ("GET", format!("/v26.0/{page}/pass_thread_control"), (400, 100, Some(33))),
        ("POST", format!("/v26.0/{page}/thread_owner?recipient={PSID}"), (400, 100, Some(33))),
        ("DELETE", format!("/v26.0/{page}/thread_owner?recipient={PSID}"), (400, 100, Some(33))),
        ("PUT", format!("/v26.0/{page}/take_thread_control"), (400, 100, Some(33))),
        ("PATCH", format!("/v26.0/{page}/conversations"), (400, 100, Some(33))),
        ("DELETE", format!("/v26.0/{page}"), (400, 100, Some(33))),
        ("GET", format!("/v26.0/{page}/no_such_edge"), (400, 100, None)),
        ("GET", format!("/v26.0/{page}/thread_owner/extra"), (400, 2500, None)),
        ("GET", "/v26.0/999999/thread_owner".to_owned(), (400, 100, Some(33))),
        ("GET", "/nonsense".to_owned(), (400, 2500, None)),
        ("GET", "/".to_owned(), (400, 2500, None)),
        ("GET", format!("/v26/{page}/thread_owner"), (400, 2500, None)),
        ("GET", format!("/v26.0/{page}/thread_owner"), (400, 100, None)),
        ("GET", format!("/v26.0/{page}/thread_owner?recipient=abc"), (400, 100, Some(2018001))),
        ("GET", format!("/v26.0/{page}/conversations?folder=nope"), (400, 100, None)),
        ("GET", format!("/v26.0/{page}/conversations?limit=-5"), (400, 100, None)),
        ("GET", format!("/v26.0/{page}/conversations?after=%00%ff"), (400, 100, None)),
        ("GET", format!("/v26.0/{page}/secondary_receivers?fields=secret"), (400, 100, None)),
    ];
    for (method, path, expected) in cases {
        let (s, ct, j) = raw.send(method, &path, None, vec![]).await;
        assert!(ct.starts_with("application/json"), "{method} {path}: {ct}");
        let got = graph_error(s, &j);
        // Conversations parameters: the code matters, the exact subcode less.
        if path.contains("conversations?") {
            assert_eq!((got.0, got.1), (expected.0, expected.1), "{method} {path}: {j}");
        } else {
            assert_eq!(got, expected, "{method} {path}: {j}");
        }
    }
    raw.healthy().await;
}

#[tokio::test]
async fn emulator_auth_errors_on_missing_or_bad_tokens() {
    let emu = emulator().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v26.0/{}/thread_owner?recipient={PSID}", emu.url(), emu.page_id());
    for auth in [None, Some("Bearer"), Some("Bearer "), Some("Bearer EAAGnope"), Some("Basic dXNlcjpwYXNz")] {
        let mut req = http.get(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let j: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(graph_error(status, &j), (400, 190, None), "{auth:?}: {j}");
        assert_eq!(j["error"]["type"], "OAuthException");
    }
    // A wrong appsecret_proof.
    let resp =
        http.get(format!("{url}&appsecret_proof=00")).bearer_auth(&emu.apps().primary.token).send().await.unwrap();
    let status = resp.status().as_u16();
    let j: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(graph_error(status, &j), (400, 100, None), "{j}");
    Raw::new(&emu).healthy().await;
}

#[tokio::test]
async fn emulator_refuses_huge_bodies_and_keeps_serving() {
    let emu = emulator().await;
    let raw = Raw::new(&emu);
    // 4 MiB of JSON: over the emulator's 1 MiB request cap.
    let huge = format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"metadata\": \"{}\"}}", "m".repeat(4 << 20));
    let sent = raw
        .http
        .post(format!("{}/v26.0/{}/take_thread_control", raw.base, raw.page))
        .bearer_auth(&raw.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    match sent {
        // Either the refusal arrives, or the server closes while the rest of
        // the body is still being written; never a success.
        Ok(resp) => assert_eq!(resp.status().as_u16(), 413),
        Err(e) => assert!(
            e.is_request() || e.is_body() || e.is_connect() || e.is_timeout() || e.to_string().contains("connection"),
            "{e}"
        ),
    }
    // A body just under the cap is read and answered as Graph would.
    let big = format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"metadata\": \"{}\"}}", "m".repeat(900 << 10));
    let (s, j) = raw.post_json("take_thread_control", &big).await;
    assert_eq!(graph_error(s, &j), (400, 100, None), "metadata too long: {j}");
    raw.healthy().await;
    assert_eq!(owner(&emu, PSID).as_deref(), Some(PRIMARY_APP_ID));
}

#[tokio::test]
async fn emulator_survives_garbage_on_the_socket() {
    let emu = emulator().await;
    let addr = format!("127.0.0.1:{}", emu.port());
    let garbage: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"POST /v26.0/me/take_thread_control HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"recip".to_vec(),
        b"POST /v26.0/me/take_thread_control HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n".to_vec(),
        vec![0u8; 70_000],
        b"GET /v26.0/me/thread_owner HTTP/1.1\r\nHost: x\r\nX-Long: "
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'a', 200_000))
            .collect(),
    ];
    for bytes in garbage {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = s.write_all(&bytes).await;
        let _ = s.shutdown().await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut answer)).await;
        if !answer.is_empty() {
            assert!(
                answer.starts_with(b"HTTP/1.1 4") || answer.starts_with(b"HTTP/1.1 5"),
                "{:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(80)])
            );
        }
    }
    // Half-open connections that never send anything do not block others.
    let idle: Vec<_> =
        futures_util::future::join_all((0..50).map(|_| tokio::net::TcpStream::connect(addr.clone()))).await;
    Raw::new(&emu).healthy().await;
    drop(idle);
    let client = bot(&emu);
    assert!(client.thread_owner(PSID).await.unwrap().is_some());
}

#[tokio::test]
async fn emulator_routing_mode_bad_durations() {
    let emu = Emulator::start(EmulatorConfig { mode: Mode::Routing, ..EmulatorConfig::default() }).await.unwrap();
    let raw = Raw::new(&emu);
    let (s, j) = raw.post_json("take_thread_control", &format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}}}")).await;
    assert_eq!((s, j["success"].clone()), (200, json!(true)), "{j}");
    for duration in ["0", "-1", "604801", "1e99", "\"soon\"", "null", "[]", "18446744073709551616"] {
        let body = format!("{{\"recipient\": {{\"id\": \"{PSID}\"}}, \"duration\": {duration}}}");
        let (s, j) = raw.post_json("extend_thread_control", &body).await;
        assert_eq!(graph_error(s, &j), (400, 100, None), "duration {duration}: {j}");
    }
    raw.healthy().await;
}

// ------------------------------ the shared fault scenarios (tests/faults/)

/// Calls one scenario operation; success carries nothing worth checking here.
async fn scenario_call(client: &Client, op: &str) -> Result<(), messenger_handover::Error> {
    match op {
        "thread_owner" => client.thread_owner(PSID).await.map(drop),
        "secondary_receivers" => client.secondary_receivers().await.map(drop),
        "conversations_page" => {
            client.conversations(messenger_handover::ConversationsQuery::new())?.next_page().await.map(drop)
        }
        "pass_thread_control_to_page_inbox" => client.pass_thread_control_to_page_inbox(PSID, None).await,
        "take_thread_control" => client.take_thread_control(PSID, None).await,
        "request_thread_control" => client.request_thread_control(PSID, None).await,
        "release_thread_control" => client.release_thread_control(PSID, None).await,
        "extend_thread_control" => client.extend_thread_control(PSID, Duration::from_secs(60)).await,
        other => panic!("unknown scenario operation {other}"),
    }
}

/// Checks one call's outcome against `expect` (or `expect.then`).
fn scenario_check(what: &str, expect: &Value, result: &Result<(), messenger_handover::Error>, took: Duration) {
    match (&expect["kind"], result) {
        (Value::Null, Ok(())) if expect.get("kind").is_some() => {}
        (Value::Null, Err(e)) if expect.get("kind").is_some() => panic!("{what}: expected success, got {e:?}"),
        (_, Ok(())) => panic!("{what}: expected an error, the call succeeded"),
        (kind, Err(e)) => {
            if let Some(kind) = kind.as_str() {
                assert_eq!(e.kind().as_str(), kind, "{what}: {e:?}");
            }
            if let Some(t) = expect["timeout"].as_bool() {
                assert_eq!(e.is_timeout(), t, "{what}: timeout? {e:?}");
            }
            if let Some(s) = expect["http_status"].as_u64() {
                assert_eq!(e.http_status().map(u64::from), Some(s), "{what}: {e:?}");
            }
            if let Some(c) = expect["code"].as_i64() {
                assert_eq!(e.graph().map(|g| g.code), Some(c), "{what}: {e:?}");
            }
            if let Some(r) = expect["retry_after"].as_f64() {
                let got = e.graph().and_then(|g| g.retry_after).map(|d| d.as_secs_f64());
                assert!(got.is_some_and(|g| (g - r).abs() < 1e-6), "{what}: retry_after {got:?} instead of {r}");
            }
        }
    }
    if let Some(ms) = expect["min_elapsed_ms"].as_u64() {
        assert!(took >= Duration::from_millis(ms), "{what}: took {took:?}, less than {ms} ms");
    }
    if let Some(ms) = expect["max_elapsed_ms"].as_u64() {
        assert!(took < Duration::from_millis(ms), "{what}: took {took:?}, not at once");
    }
}

#[tokio::test]
async fn fault_scenarios() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/faults/scenarios.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let scenarios = doc["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 40, "only {} scenarios in {path}", scenarios.len());
    let emu = emulator().await;
    let mut ran = 0;
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        if let Some(why) = s["pending"].as_str() {
            eprintln!("scenario {name}: skipped, pending {why}");
            continue;
        }
        let c = &s["client"];
        for op in s["operations"].as_array().unwrap() {
            let op = op.as_str().unwrap();
            let what = format!("{name} / {op}");
            eprintln!("scenario {what}");
            emu.reset();
            for f in s["faults"].as_array().unwrap() {
                fault(&emu, f.clone());
            }
            let mut b = builder(&emu);
            if let Some(n) = c["max_retries"].as_u64() {
                b = b.max_retries(u32::try_from(n).unwrap());
            }
            if let Some(ms) = c["timeout_ms"].as_u64() {
                b = b.timeout(Duration::from_millis(ms));
            }
            if let Some(ms) = c["max_retry_wait_ms"].as_u64() {
                b = b.max_retry_wait(Duration::from_millis(ms));
            }
            if let Some(n) = c["max_response_bytes"].as_u64() {
                b = b.max_response_bytes(usize::try_from(n).unwrap());
            }
            let client = b.build().unwrap();
            let expect = &s["expect"];
            let started = Instant::now();
            let result = scenario_call(&client, op).await;
            scenario_check(&what, expect, &result, started.elapsed());
            let requests = expect["requests"].as_u64().unwrap() as usize;
            assert_eq!(log(&emu).len(), requests, "{what}: request log {:?}", log(&emu));
            if let Some(ms) = expect["settle_ms"].as_u64() {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                assert_eq!(log(&emu).len(), requests, "{what}: after {ms} ms: {:?}", log(&emu));
            }
            if let Some(app) = expect["owner"].as_str() {
                assert_eq!(owner(&emu, PSID).as_deref(), Some(app), "{what}: thread owner");
            }
            if let Some(then) = expect.get("then") {
                let op = then["operation"].as_str().unwrap();
                let started = Instant::now();
                let result = scenario_call(&client, op).await;
                scenario_check(&format!("{what}, then {op}"), then, &result, started.elapsed());
                assert_eq!(log(&emu).len() as u64, then["requests"].as_u64().unwrap(), "{what}, then {op}");
            }
            ran += 1;
        }
    }
    assert!(ran >= 60, "only {ran} scenario runs");
}
