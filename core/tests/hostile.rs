//! Hostile servers and careless callers (issue 11): each test pins one
//! behaviour that did not hold, against the emulator's fault injection over
//! real HTTP on 127.0.0.1. docs/RELIABILITY.md lists what each one proves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{bot, builder, emulator, fault, log, seen};
use messenger_handover::webhooks::{self, Verifier};
use messenger_handover::{Client, Error, ErrorKind, TransportFailure, DEFAULT_MAX_CONNECTIONS};
use messenger_handover_emulator::{Emulator, PAGE_ID};
use serde_json::{json, Value};

const PSID: &str = "2468013579";

/// Generous: these calls must end at once, but CI is a loaded 2-core box.
const PROMPTLY: Duration = Duration::from_secs(20);

// ----------------------------------------------------------- 2. redirects

/// A 3xx pointing at a second emulator: that one must never be reached.
fn redirect(status: u16, method: &str, to: &Emulator, edge: &str) -> Value {
    let location = format!("{}/v26.0/{PAGE_ID}/{edge}?recipient={PSID}", to.url());
    json!({"match": {"method": method}, "count": 5, "action": {"type": "status", "status": status,
        "headers": {"Location": location}, "body": ""}})
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let graph = emulator().await;
    let elsewhere = emulator().await;
    let client = bot(&graph);
    for status in [301u16, 302, 303, 307, 308] {
        graph.clear_request_log();
        graph.clear_faults();
        fault(&graph, redirect(status, "GET", &elsewhere, "thread_owner"));
        let err = client.thread_owner(PSID).await.expect_err("a redirect is not an answer");
        assert_eq!(err.kind(), ErrorKind::Protocol, "{status}: {err}");
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(seen(&graph, "GET", "thread_owner"), 1, "{status}: a 3xx is not retried");

        graph.clear_request_log();
        graph.clear_faults();
        fault(&graph, redirect(status, "POST", &elsewhere, "take_thread_control"));
        let err = client.take_thread_control(PSID, Some("m")).await.expect_err("a redirect is not a success");
        assert_eq!(err.kind(), ErrorKind::Protocol, "{status}: {err}");
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(seen(&graph, "POST", "take_thread_control"), 1, "{status}: a POST is never re-sent");
    }
    assert!(log(&elsewhere).is_empty(), "the redirect target was reached: {:?}", log(&elsewhere));
}

// ------------------------------------------------- 3. response strings redacted

#[tokio::test]
async fn every_string_of_an_error_body_is_redacted() {
    let emu = emulator().await;
    let client = bot(&emu);
    let token = emu.apps().primary.token.clone();
    let echo = format!("echo {token} echo");
    let buc = json!({ token.clone(): [{"type": echo, "call_count": 1, "estimated_time_to_regain_access": 0}] });
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "graph_error", "status": 400,
            "headers": {"X-Business-Use-Case-Usage": buc.to_string()},
            "error": {"message": echo, "type": echo, "code": 100, "fbtrace_id": echo,
                      "error_user_title": echo, "error_user_msg": echo}}}),
    );
    let err = client.thread_owner(PSID).await.expect_err("the fault answers");
    let g = err.graph().expect("a Graph error");
    for field in
        [Some(&g.message), g.error_type.as_ref(), g.fbtrace_id.as_ref(), g.user_title.as_ref(), g.user_message.as_ref()]
    {
        let field = field.expect("the field is kept");
        assert!(field.contains("echo") && !field.contains(&token), "{field}");
    }
    assert!(!format!("{err} {err:?}").contains(&token));
    assert!(!serde_json::to_string(&g.usage).unwrap().contains(&token));

    // A body of the wrong shape: serde's message would quote the value.
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "malformed", "status": 200,
        "body": json!({"data": echo}).to_string()}}),
    );
    let err = client.thread_owner(PSID).await.expect_err("wrong shape");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(!format!("{err} {err:?}").contains(&token), "{err}");

    // A content type from the response reaches the protocol error's message.
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "malformed", "status": 404,
        "body": "<html>nope</html>", "content_type": format!("text/html; {token}")}}),
    );
    let err = client.thread_owner(PSID).await.expect_err("HTML 404");
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(!format!("{err} {err:?}").contains(&token), "{err}");
}

// --------------------------------------------------- 4. empty webhook secrets

#[test]
fn empty_webhook_secrets_are_refused() {
    let body = br#"{"object":"page","entry":[]}"#;
    for empty in ["", "  "] {
        assert!(!webhooks::verify_signature(empty, body, Some(&webhooks::sign(empty, body))), "{empty:?}");
        let err = Verifier::new(empty).expect_err("an empty app secret is refused");
        assert!(matches!(err, Error::InvalidInput { argument: "app_secret", .. }), "{err}");
        let err = Verifier::new("s3cret").and_then(|v| v.with_verify_token(empty)).expect_err("empty token");
        assert!(matches!(err, Error::InvalidInput { argument: "verify_token", .. }), "{err}");
        let handshake = [("hub.mode", "subscribe"), ("hub.verify_token", empty), ("hub.challenge", "42")];
        assert!(webhooks::verify_subscription(handshake, empty).is_err(), "{empty:?}");
    }
    let v = Verifier::new("s3cret").unwrap().with_verify_token("tok").unwrap();
    assert!(v.verify_signature(body, Some(&webhooks::sign("s3cret", body))));
    let handshake = [("hub.mode", "subscribe"), ("hub.verify_token", "tok"), ("hub.challenge", "42")];
    assert_eq!(v.verify_subscription(handshake).unwrap(), "42");
    assert!(!format!("{v:?}").contains("s3cret"));
    let no_token = Verifier::new("s3cret").unwrap();
    assert!(no_token.verify_subscription([("hub.mode", "subscribe"), ("hub.verify_token", "")]).is_err());
}

// ----------------------------------------------------- 8. absurd waits

fn throttled(retry_after: Option<&str>, regain_minutes: Option<f64>) -> Value {
    let mut headers = serde_json::Map::new();
    if let Some(r) = retry_after {
        headers.insert("Retry-After".into(), r.into());
    }
    if let Some(m) = regain_minutes {
        let buc = json!({ PAGE_ID: [{"type": "messenger", "call_count": 100, "total_cputime": 1, "total_time": 1,
            "estimated_time_to_regain_access": m}] });
        headers.insert("X-Business-Use-Case-Usage".into(), buc.to_string().into());
    }
    json!({"match": {"method": "GET"}, "count": 10, "action": {"type": "graph_error", "status": 400, "headers": headers,
        "error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "type": "OAuthException", "code": 613}}})
}

#[tokio::test]
async fn waits_that_overflow_or_exceed_max_retry_wait_fail_at_once() {
    let cases: [(&str, Option<&str>, Option<f64>); 5] = [
        ("Retry-After 1e30", Some("1e30"), None),
        ("Retry-After 99999", Some("99999"), None),
        ("Retry-After garbage", Some("soon, maybe"), None),
        ("Retry-After negative", Some("-5"), None),
        ("regain 1e308 minutes", None, Some(1e308)),
    ];
    for (what, retry_after, regain) in cases {
        let emu = emulator().await;
        let client = builder(&emu).max_retries(3).build().unwrap();
        fault(&emu, throttled(retry_after, regain));
        let started = Instant::now();
        let result = tokio::time::timeout(PROMPTLY, client.thread_owner(PSID)).await;
        let err = result.unwrap_or_else(|_| panic!("{what}: still waiting after {PROMPTLY:?}")).expect_err(what);
        assert_eq!(err.kind(), ErrorKind::RateLimit, "{what}: {err}");
        let wait = err.graph().and_then(|g| g.retry_after).expect("retry_after is set");
        assert!(wait > Duration::from_secs(60), "{what}: {wait:?}");
        assert_eq!(seen(&emu, "GET", "thread_owner"), 1, "{what}: retried after {:?}", started.elapsed());
    }
}

// ------------------------------------------------ 9. close() ends backoff

#[tokio::test]
async fn close_ends_calls_waiting_in_backoff() {
    let emu = emulator().await;
    // Long waits and many retries: without close() this call would run for
    // minutes. Retry-After fixes each wait at 30 s; a jittered backoff alone
    // may end before close() and let a retry out.
    let client = builder(&emu).max_retries(100).retry_base_delay(Duration::from_secs(2)).build().unwrap();
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "count": 1000, "action": {"type": "status", "status": 503,
            "headers": {"Retry-After": "30"}, "body": r#"{"error":{"message":"down","code":2,"is_transient":true}}"#}}),
    );
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.thread_owner(PSID).await }
    });
    while seen(&emu, "GET", "thread_owner") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.close();
    let closed_at = Instant::now();
    let result = tokio::time::timeout(PROMPTLY, call).await.expect("the call ended after close()").unwrap();
    let err = result.expect_err("a closed client answers nothing");
    assert!(matches!(err, Error::Transport { failure: TransportFailure::Closed, .. }), "{err}");
    let sent = seen(&emu, "GET", "thread_owner");
    assert_eq!(sent, 1, "{sent} requests: the closed error was retried ({:?} after close)", closed_at.elapsed());
}

#[tokio::test]
async fn close_ends_calls_waiting_out_a_throttle() {
    let emu = emulator().await;
    let client = builder(&emu).max_retry_wait(Duration::from_secs(600)).build().unwrap();
    // A success that says the Page is at its limit for 5 minutes: the next
    // call waits before sending, until close().
    let buc = json!({ PAGE_ID: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 5}] });
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "action": {"type": "status", "status": 200,
        "headers": {"X-Business-Use-Case-Usage": buc.to_string()},
        "body": json!({"data": [{"thread_owner": {"app_id": "1"}}]}).to_string()}}),
    );
    client.thread_owner(PSID).await.unwrap();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.thread_owner(PSID).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.close();
    let err = tokio::time::timeout(PROMPTLY, call).await.expect("ended").unwrap().expect_err("closed");
    assert!(matches!(err, Error::Transport { failure: TransportFailure::Closed, .. }), "{err}");
    assert_eq!(seen(&emu, "GET", "thread_owner"), 1);
}

#[tokio::test]
async fn close_ends_a_batch_waiting_in_backoff() {
    let emu = emulator().await;
    let client = builder(&emu).max_retries(100).build().unwrap();
    // The whole batch request throttled with a 50 s wait (under max_retry_wait):
    // without close() waking it, the batch would sleep that long.
    let throttled = json!({"code": 613, "message": "(#613) Calls to this api have exceeded the rate limit."});
    fault(
        &emu,
        json!({"match": {"method": "POST"}, "count": 1000, "action": {"type": "graph_error", "status": 400,
        "headers": {"Retry-After": "50"}, "error": throttled}}),
    );
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.thread_owners([PSID]).await }
    });
    while log(&emu).is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.close();
    let answers = tokio::time::timeout(PROMPTLY, call).await.expect("the batch ended after close()").unwrap();
    assert!(answers.map_or(true, |a| a.iter().all(Result::is_err)));
    assert!(log(&emu).len() <= 2, "{} batch requests after close()", log(&emu).len());
}

// ------------------------------------------------- 11. connections capped

/// Fires `calls` concurrent thread_owner calls, each held 400 ms by the
/// emulator, and returns the most requests it ever held at once.
async fn most_in_flight(emu: &Emulator, client: &Client, calls: usize) -> usize {
    fault(emu, json!({"match": {"method": "GET"}, "count": calls, "action": {"type": "delay", "ms": 400}}));
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.thread_owner(PSID).await })
        })
        .collect();
    let mut most = 0;
    let started = Instant::now();
    while !tasks.iter().all(|t| t.is_finished()) {
        // Status 0: arrived and held by the delay, not answered yet.
        let held = emu.request_log().iter().filter(|r| r.status == 0).count();
        most = most.max(held);
        assert!(started.elapsed() < Duration::from_secs(120), "calls did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in tasks {
        t.await.unwrap().expect("every queued call completes");
    }
    most
}

#[tokio::test]
async fn connections_in_flight_are_capped() {
    let emu = emulator().await;
    let client = builder(&emu).max_connections(3).build().unwrap();
    let most = most_in_flight(&emu, &client, 12).await;
    assert!((1..=3).contains(&most), "{most} requests in flight with max_connections 3");
    assert_eq!(seen(&emu, "GET", "thread_owner"), 12);

    let err = builder(&emu).max_connections(0).build().expect_err("zero connections");
    assert!(matches!(err, Error::InvalidInput { argument: "max_connections", .. }), "{err}");
}

#[tokio::test]
async fn connections_in_flight_default_to_100() {
    assert_eq!(DEFAULT_MAX_CONNECTIONS, 100);
    let emu = emulator().await;
    let client = bot(&emu);
    let most = most_in_flight(&emu, &client, 130).await;
    assert!(most <= 100, "{most} requests in flight with the default cap");
}

// --------------------------------------------------- 12. exact numeric ids

async fn owner_from(emu: &Emulator, client: &Client, app_id: &str) -> Result<String, Error> {
    let body = format!(r#"{{"data":[{{"thread_owner":{{"app_id":{app_id}}}}}]}}"#);
    fault(emu, json!({"match": {"method": "GET"}, "action": {"type": "malformed", "status": 200, "body": body}}));
    client.thread_owner(PSID).await.map(|o| o.expect("owned").app_id)
}

#[tokio::test]
async fn numeric_ids_keep_every_digit() {
    let emu = emulator().await;
    let client = bot(&emu);
    for exact in ["263902037430900", "18446744073709551615", "263902037430900123456789"] {
        assert_eq!(owner_from(&emu, &client, exact).await.unwrap(), exact);
    }
    for bad in ["1.5", "-5", "2.5e3"] {
        let err = owner_from(&emu, &client, bad).await.expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::Protocol, "{bad}: {err}");
    }
    let body = r#"{"data":[{"id":18446744073709551615,"name":"big"}]}"#;
    fault(&emu, json!({"match": {"method": "GET"}, "action": {"type": "malformed", "status": 200, "body": body}}));
    let apps = client.secondary_receivers().await.unwrap();
    assert_eq!(apps[0].id, "18446744073709551615");
}

#[test]
fn webhook_event_ids_keep_every_digit_and_refuse_fractions() {
    let event = |app_id: &str| {
        format!(
            r#"{{"object":"page","entry":[{{"id":"1","time":1,"messaging":[{{"sender":{{"id":"9"}},"recipient":{{"id":"1"}},"timestamp":1,"pass_thread_control":{{"new_owner_app_id":{app_id}}}}}]}}]}}"#
        )
    };
    let events = webhooks::parse_events(event("18446744073709551615").as_bytes()).unwrap();
    assert!(
        matches!(&events[0], webhooks::Event::PassThreadControl { new_owner_app_id, .. } if new_owner_app_id == "18446744073709551615"),
        "{events:?}"
    );
    for bad in ["1.5", "-5"] {
        assert!(webhooks::parse_events(event(bad).as_bytes()).is_err(), "{bad}");
    }
    let fractional_sender = br#"{"entry":[{"id":"1","messaging":[{"sender":{"id":2.5},"timestamp":1}]}]}"#;
    assert!(webhooks::parse_events(fractional_sender).is_err());
}
