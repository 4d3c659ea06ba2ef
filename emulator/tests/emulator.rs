//! The emulator over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hmac::{Hmac, Mac};
use messenger_handover_emulator::scripted::{ScriptedResponse, ScriptedServer};
use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, Mode, RateLimitConfig};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};

mod common;
use common::{T, V};
const INBOX: &str = "263902037430900";
const PRIMARY: &str = "1111111111111";
const SECONDARY: &str = "2222222222222";

fn owner_id(b: &Value) -> &str {
    b["data"][0]["thread_owner"]["app_id"].as_str().unwrap()
}

fn err(b: &Value) -> (i64, Option<i64>) {
    (b["error"]["code"].as_i64().unwrap(), b["error"]["error_subcode"].as_i64())
}

#[tokio::test]
async fn starts_on_a_free_port_with_info() {
    let t = T::new().await;
    assert_ne!(t.emu.port(), 0);
    assert_eq!(t.emu.url(), format!("http://127.0.0.1:{}", t.emu.port()));
    let info = t.emu.info();
    assert_eq!(info["url"], t.emu.url());
    assert_eq!(info["page_id"], t.emu.page_id());
    for role in ["primary", "secondary", "page_inbox"] {
        let app = &info["apps"][role];
        assert!(app["app_id"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()));
        assert!(app["token"].as_str().unwrap().starts_with("EAAG"));
        assert_eq!(app["secret"].as_str().unwrap().len(), 32);
    }
    assert_eq!(info["apps"]["page_inbox"]["app_id"], INBOX);
    // Deterministic across instances; Debug hides secrets.
    let other = T::new().await;
    assert_eq!(other.emu.apps().primary, t.emu.apps().primary);
    let dbg = format!("{:?}", t.emu.apps());
    assert!(!dbg.contains(&t.token(AppRole::Primary)));
    t.emu.shutdown().await;
}

#[tokio::test]
async fn thread_owner_defaults_to_primary_and_pass_changes_it() {
    let t = T::new().await;
    assert_eq!(owner_id(&t.owner("100200").await), PRIMARY);
    let (s, b) = t
        .post(
            AppRole::Primary,
            "pass_thread_control",
            json!({"recipient": {"id": "100200"}, "target_app_id": 263902037430900u64, "metadata": "to a human"}),
        )
        .await;
    assert_eq!((s, b), (200, json!({"success": true})));
    assert_eq!(owner_id(&t.owner("100200").await), INBOX);
    assert_eq!(t.emu.state()["threads"]["100200"]["owner"], INBOX);

    // The primary may take it back; the page inbox then no longer owns it.
    let (s, _) = t.post(AppRole::Primary, "take_thread_control", json!({"recipient": {"id": "100200"}})).await;
    assert_eq!(s, 200);
    assert_eq!(owner_id(&t.owner("100200").await), PRIMARY);
}

#[tokio::test]
async fn thread_control_errors_use_real_codes() {
    let t = T::new().await;
    let r = json!({"id": "555"});
    let (s, b) =
        t.post(AppRole::Secondary, "pass_thread_control", json!({"recipient": r, "target_app_id": INBOX})).await;
    assert_eq!((s, err(&b)), (400, (10, Some(2018300))));
    assert_eq!(b["error"]["type"], "OAuthException");
    assert!(b["error"]["fbtrace_id"].as_str().unwrap().len() == 11);

    let (s, b) = t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": r, "target_app_id": "999"})).await;
    assert_eq!((s, err(&b)), (400, (100, Some(2018234))));
    let (_, b) =
        t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": r, "target_app_id": PRIMARY})).await;
    assert_eq!(err(&b), (100, Some(2018234)));
    let (_, b) = t.post(AppRole::Secondary, "take_thread_control", json!({"recipient": r})).await;
    assert_eq!(err(&b), (2018171, None));
    let (_, b) = t.post(AppRole::Primary, "request_thread_control", json!({"recipient": r})).await;
    assert_eq!(err(&b), (2018321, None));
    let (s, _) = t.post(AppRole::Secondary, "request_thread_control", json!({"recipient": r, "metadata": "pls"})).await;
    assert_eq!(s, 200);
    let (_, b) = t.post(AppRole::Secondary, "release_thread_control", json!({"recipient": r})).await;
    assert_eq!(err(&b), (10, Some(2018300)));
    // Extend on a Handover Page: the emulator's own plain 100 (no subcode),
    // not the thread-control 2534037.
    let (_, b) = t.post(AppRole::Primary, "extend_thread_control", json!({"recipient": r, "duration": 60})).await;
    assert_eq!(err(&b), (100, None));
    assert!(b["error"]["message"].as_str().unwrap().contains("does not use Conversation Routing"), "{b}");
    let (_, b) = t.post(AppRole::Primary, "pass_thread_control", json!({})).await;
    assert_eq!(b["error"]["message"], "(#100) The parameter recipient is required");
    let (_, b) = t
        .post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "abc"}, "target_app_id": INBOX}))
        .await;
    assert_eq!(err(&b), (100, Some(2018001)));

    // Handover mode: only the primary reads thread_owner.
    let (s, _, b) = t.get(AppRole::Secondary, "thread_owner?recipient=555").await;
    assert_eq!((s, err(&b)), (403, (10, None)));
    let (s, _, b) = t.get(AppRole::Primary, "thread_owner").await;
    assert_eq!((s, err(&b)), (400, (100, None)));
    // Wrong method, unknown path.
    let (s, _, b) = t.get(AppRole::Primary, "pass_thread_control").await;
    assert_eq!((s, err(&b)), (400, (100, Some(33))));
    let resp = t.get_raw(AppRole::Primary, "bogus/me/thread_owner").await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let b: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(err(&b).0, 2500);
}

#[tokio::test]
async fn release_returns_to_primary_and_bad_json_is_100() {
    let t = T::new().await;
    let r = json!({"id": "777"});
    t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": r, "target_app_id": SECONDARY})).await;
    let (s, _) = t.post(AppRole::Secondary, "release_thread_control", json!({"recipient": r})).await;
    assert_eq!(s, 200);
    assert_eq!(owner_id(&t.owner("777").await), PRIMARY);

    let (_, b) = t.post_raw(AppRole::Primary, "pass_thread_control", "application/json", "{not json".into()).await;
    assert_eq!(b["error"]["message"], "(#100) Invalid JSON");

    // Form-encoded, recipient as a JSON string, like the real API accepts.
    let form = "recipient=%7B%22id%22%3A%22777%22%7D&target_app_id=263902037430900";
    let (s, _) =
        t.post_raw(AppRole::Primary, "pass_thread_control", "application/x-www-form-urlencoded", form.into()).await;
    assert_eq!(s, 200);
    assert_eq!(owner_id(&t.owner("777").await), INBOX);
}

#[tokio::test]
async fn routing_mode_idle_threads_expiration_and_extend() {
    let t = T::with(EmulatorConfig { mode: Mode::Routing, ..Default::default() }).await;
    assert_eq!(t.owner("4242").await, json!({"data": []}));
    let (s, b) = t.post(AppRole::Primary, "take_thread_control", json!({"recipient": {"id": "4242"}})).await;
    assert_eq!(s, 200, "{b}");
    let b = t.owner("4242").await;
    assert_eq!(owner_id(&b), PRIMARY);
    assert!(b["data"][0]["expiration"].as_str().unwrap().ends_with("+0000"));
    let (s, _) = t
        .post(AppRole::Primary, "extend_thread_control", json!({"recipient": {"id": "4242"}, "duration": 604800}))
        .await;
    assert_eq!(s, 200);
    let (_, b) = t
        .post(AppRole::Primary, "extend_thread_control", json!({"recipient": {"id": "4242"}, "duration": 604801}))
        .await;
    assert_eq!(b["error"]["message"], "(#100) duration must be between 1 and 604800");
    // Routing mode: any app with a role may read the owner.
    let (s, _, _) = t.get(AppRole::Secondary, "thread_owner?recipient=4242").await;
    assert_eq!(s, 200);
    let (s, _) = t.post(AppRole::Primary, "release_thread_control", json!({"recipient": {"id": "4242"}})).await;
    assert_eq!(s, 200);
    assert_eq!(t.owner("4242").await, json!({"data": []}));
}

#[tokio::test]
async fn bad_token_and_appsecret_proof() {
    let t = T::new().await;
    let resp = t
        .http
        .get(format!("{}/{V}/me/thread_owner?recipient=1", t.emu.url()))
        .bearer_auth("EAAGnope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let b: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(err(&b), (190, None));
    assert_eq!(b["error"]["type"], "OAuthException");

    let app = t.emu.apps().primary.clone();
    let mut mac = Hmac::<Sha256>::new_from_slice(app.secret.as_bytes()).unwrap();
    mac.update(app.token.as_bytes());
    let proof = hex::encode(mac.finalize().into_bytes());
    let (s, _, _) = t.get(AppRole::Primary, &format!("thread_owner?recipient=1&appsecret_proof={proof}")).await;
    assert_eq!(s, 200);
    let (s, _, b) = t.get(AppRole::Primary, "thread_owner?recipient=1&appsecret_proof=00ff").await;
    assert_eq!((s, err(&b)), (400, (100, None)));
    assert_eq!(b["error"]["type"], "GraphMethodException");
}

#[tokio::test]
async fn conversations_page_to_the_end_by_cursor() {
    let t = T::new().await;
    let token = t.token(AppRole::Primary);
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut pages = 0;
    loop {
        let q = match &after {
            Some(a) => format!("conversations?limit=10&fields=updated_time,folder&after={a}"),
            None => "conversations?limit=10&fields=updated_time,folder".to_string(),
        };
        let (s, _, b) = t.get(AppRole::Primary, &q).await;
        assert_eq!(s, 200, "{b}");
        pages += 1;
        for c in b["data"].as_array().unwrap() {
            assert_eq!(c["folder"], "inbox");
            ids.push(c["id"].as_str().unwrap().to_string());
            times.push(c["updated_time"].as_str().unwrap().to_string());
        }
        let cursor = b["paging"]["cursors"]["after"].as_str().unwrap().to_string();
        match b["paging"]["next"].as_str() {
            Some(next) => {
                // The real `next` carries the token; clients must not follow it.
                assert!(next.contains(&format!("access_token={token}")));
                assert!(next.starts_with(t.emu.url()));
                after = Some(cursor);
            }
            None => break,
        }
        assert!(pages < 50);
    }
    assert!(pages >= 2, "expected several pages, got {pages}");
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sorted, times, "newest first");

    // Same total with the default page size.
    let (_, _, first) = t.get(AppRole::Primary, "conversations?limit=100").await;
    assert_eq!(first["data"].as_array().unwrap().len(), ids.len());

    let (s, _, b) = t.get(AppRole::Primary, "conversations?limit=101").await;
    assert_eq!((s, err(&b)), (400, (100, None)));
    let (_, _, b) = t.get(AppRole::Primary, "conversations?after=garbage").await;
    assert_eq!(b["error"]["message"], "(#100) Invalid cursor");
    let (_, _, b) = t.get(AppRole::Primary, "conversations?folder=nope").await;
    assert_eq!(err(&b).0, 100);
    let (s, _, b) = t.get(AppRole::Secondary, "conversations").await;
    assert_eq!((s, err(&b)), (403, (10, None)));
    let (s, _, _) = t.get(AppRole::PageInbox, "conversations?folder=spam&platform=instagram").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn conversations_fields_projection() {
    let t = T::new().await;
    let (_, _, b) = t.get(AppRole::Primary, "conversations?limit=3").await;
    let first = b["data"][0].as_object().unwrap();
    let mut keys: Vec<_> = first.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "link", "updated_time"]);
    assert!(first["id"].as_str().unwrap().starts_with("t_"));

    let (_, _, b) = t.get(AppRole::Primary, "conversations?limit=3&fields=snippet,participants,message_count").await;
    let first = b["data"][0].as_object().unwrap();
    let mut keys: Vec<_> = first.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "message_count", "participants", "snippet"]);
    let participants = first["participants"]["data"].as_array().unwrap();
    assert_eq!(participants[1]["id"], t.emu.page_id());

    // user_id filters on the participant.
    let user = participants[0]["id"].as_str().unwrap();
    let (_, _, b) = t.get(AppRole::Primary, &format!("conversations?user_id={user}")).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);

    let (_, _, b) = t.get(AppRole::Primary, "conversations?fields=bogus").await;
    assert_eq!(b["error"]["message"], "(#100) Tried accessing nonexisting field (bogus) on node type (UnifiedThread)");
}

#[tokio::test]
async fn faults_status_and_malformed_do_not_touch_state() {
    let t = T::new().await;
    t.fault(json!({"match": {"path_contains": "pass_thread_control"}, "action": {"type": "status", "status": 503, "body": "<html>busy</html>"}}));
    let url = format!("{}/{V}/me/pass_thread_control", t.emu.url());
    let resp = t
        .http
        .post(&url)
        .bearer_auth(t.token(AppRole::Primary))
        .json_body(json!({"recipient": {"id": "9"}, "target_app_id": INBOX}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.text().await.unwrap(), "<html>busy</html>");
    assert_eq!(owner_id(&t.owner("9").await), PRIMARY, "faulted pass not applied");

    t.fault(json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "malformed", "body": "{\"data\": ["}}));
    for _ in 0..2 {
        let resp = t.get_raw(AppRole::Primary, &format!("{V}/me/thread_owner?recipient=9")).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.text().await.unwrap(), "{\"data\": [");
    }
    assert_eq!(owner_id(&t.owner("9").await), PRIMARY, "fault count consumed");

    t.fault(json!({"action": {"type": "graph_error", "status": 500, "error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1, "is_transient": true}, "headers": {"Retry-After": "2"}}}));
    let (s, h, b) = t.get(AppRole::Primary, "thread_owner?recipient=9").await;
    assert_eq!((s, err(&b)), (500, (1, None)));
    assert_eq!(h["retry-after"], "2");

    let log = t.emu.request_log();
    let faulted: Vec<_> = log.iter().filter_map(|r| r.fault.clone()).collect();
    assert_eq!(faulted, ["status", "malformed", "malformed", "graph_error"]);
    assert_eq!(log.last().unwrap().error_code, Some(1));
}

#[tokio::test]
async fn faults_delay_is_applied_and_resets_break_the_connection() {
    let t = T::new().await;
    t.fault(json!({"match": {"method": "POST"}, "action": {"type": "delay", "ms": 300}}));
    let started = Instant::now();
    let (s, _) = t
        .post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "31"}, "target_app_id": INBOX}))
        .await;
    assert_eq!(s, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(owner_id(&t.owner("31").await), INBOX, "a delayed request is applied");

    t.fault(json!({"action": {"type": "reset"}}));
    let r = t.get_raw(AppRole::Primary, &format!("{V}/me/thread_owner?recipient=31")).await;
    assert!(r.is_err(), "reset must be a transport error: {r:?}");

    t.fault(json!({"action": {"type": "reset_mid_body"}}));
    let r = t.get_raw(AppRole::Primary, &format!("{V}/me/thread_owner?recipient=31")).await;
    match r {
        Err(_) => {}
        Ok(resp) => assert!(resp.text().await.is_err(), "truncated body must fail"),
    }
    // The server is still healthy afterwards.
    assert_eq!(owner_id(&t.owner("31").await), INBOX);
}

#[tokio::test]
async fn rate_limit_613_after_max_calls_with_usage_headers() {
    let t = T::new().await;
    let (_, h, _) = t.get(AppRole::Primary, "thread_owner?recipient=1").await;
    let usage: Value = serde_json::from_str(h["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 0);
    t.emu.set_rate_limit(RateLimitConfig {
        enabled: true,
        max_calls: 4,
        window_secs: 3600,
        code: 613,
        regain_minutes: 7,
    });
    for i in 1..=4 {
        let (s, h, _) = t.get(AppRole::Primary, "thread_owner?recipient=1").await;
        assert_eq!(s, 200);
        let usage: Value = serde_json::from_str(h["x-app-usage"].to_str().unwrap()).unwrap();
        assert_eq!(usage["call_count"], i * 25);
    }
    let (s, h, b) = t.get(AppRole::Primary, "thread_owner?recipient=1").await;
    assert_eq!((s, err(&b)), (400, (613, None)));
    assert_eq!(b["error"]["message"], "(#613) Calls to this api have exceeded the rate limit.");
    let buc: Value = serde_json::from_str(h["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    let page = &buc[t.emu.page_id()][0];
    assert_eq!(page["estimated_time_to_regain_access"], 7);
    assert_eq!(page["type"], "messenger");

    // 80006 variant, and reset restores the configured (disabled) limit.
    t.emu.set_rate_limit(RateLimitConfig { enabled: true, max_calls: 0, code: 80006, ..Default::default() });
    let (_, _, b) = t.get(AppRole::Primary, "thread_owner?recipient=1").await;
    assert_eq!(err(&b), (80006, None));
    t.emu.reset();
    let (s, _, _) = t.get(AppRole::Primary, "thread_owner?recipient=1").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn request_log_records_and_redacts() {
    let t = T::new().await;
    let token = t.token(AppRole::PageInbox);
    let resp =
        t.http.get(format!("{}/{V}/me/conversations?limit=2&access_token={token}", t.emu.url())).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "5"}, "target_app_id": INBOX})).await;
    let log = t.emu.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].query["access_token"], "<redacted>");
    assert!(log[0].token_in_query);
    assert_eq!(log[0].app, Some(AppRole::PageInbox));
    assert_eq!(log[1].method, "POST");
    assert_eq!(log[1].body.as_ref().unwrap()["recipient"]["id"], "5");
    assert!(!log[1].token_in_query);
    let all = serde_json::to_string(&log).unwrap();
    for role in AppRole::ALL {
        assert!(!all.contains(&t.token(role)));
    }
    // Admin API: same log over HTTP, then cleared.
    let via_admin: Value = serde_json::from_str(
        &t.http.get(format!("{}/_emulator/requests", t.emu.url())).send().await.unwrap().text().await.unwrap(),
    )
    .unwrap();
    assert_eq!(via_admin.as_array().unwrap().len(), 2);
    t.http.delete(format!("{}/_emulator/requests", t.emu.url())).send().await.unwrap();
    assert!(t.emu.request_log().is_empty());
}

#[tokio::test]
async fn admin_api_faults_reset_and_state() {
    let t = T::new().await;
    let admin = |p: &str| format!("{}/_emulator/{p}", t.emu.url());
    let r = t
        .http
        .post(admin("faults"))
        .body(r#"{"match":{"method":"GET"},"action":{"type":"status","status":502,"body":"bad gateway"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = t.get_raw(AppRole::Primary, &format!("{V}/me/thread_owner?recipient=1")).await.unwrap();
    assert_eq!(r.status().as_u16(), 502);
    t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "8"}, "target_app_id": INBOX})).await;
    let state: Value =
        serde_json::from_str(&t.http.get(admin("state")).send().await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(state["threads"]["8"]["owner"], INBOX);
    t.http.post(admin("reset")).send().await.unwrap();
    assert_eq!(owner_id(&t.owner("8").await), PRIMARY);
    let r = t.http.put(admin("rate_limit")).body(r#"{"enabled":true,"max_calls":0}"#).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, _, b) = t.get(AppRole::Primary, "thread_owner?recipient=8").await;
    assert_eq!(err(&b).0, 613);
}

#[tokio::test]
async fn admin_primary_receiver_moves_the_primary_role() {
    let t = T::new().await;
    let admin = |p: &str| format!("{}/_emulator/{p}", t.emu.url());
    let r = t.http.put(admin("primary_receiver")).body(r#"{"app":"nobody"}"#).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "an unknown app is refused");
    let r = t.http.put(admin("primary_receiver")).body(r#"{"app":"secondary"}"#).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let now: Value =
        serde_json::from_str(&t.http.get(admin("primary_receiver")).send().await.unwrap().text().await.unwrap())
            .unwrap();
    assert_eq!(now["app"], "secondary");

    // New threads start with the new primary; it alone sees owners and secondary receivers.
    let (status, _, b) = t.get(AppRole::Secondary, "thread_owner?recipient=77").await;
    assert_eq!((status, owner_id(&b)), (200, SECONDARY));
    let (_, _, b) = t.get(AppRole::Primary, "thread_owner?recipient=77").await;
    assert_eq!(err(&b).0, 10, "the old primary lost thread_owner visibility: {b}");
    let (_, _, b) = t.get(AppRole::Secondary, "secondary_receivers?fields=id").await;
    let ids: Vec<&str> = b["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [PRIMARY, INBOX]);

    t.http.post(admin("reset")).send().await.unwrap();
    assert_eq!(owner_id(&t.owner("77").await), PRIMARY, "reset gives the role back to the bot app");
}

mod webhook {
    use super::*;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use tokio::sync::mpsc;

    type Seen = (String, String, String);

    pub async fn receiver() -> (String, mpsc::UnboundedReceiver<Seen>) {
        let (tx, rx) = mpsc::unbounded_channel::<Seen>();
        async fn hook(
            State(tx): State<mpsc::UnboundedSender<Seen>>,
            axum::extract::Path(role): axum::extract::Path<String>,
            headers: HeaderMap,
            body: String,
        ) -> &'static str {
            let sig = headers.get("x-hub-signature-256").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let _ = tx.send((role, sig, body));
            "EVENT_RECEIVED"
        }
        let app = axum::Router::new().route("/hook/{role}", axum::routing::post(hook)).with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, rx)
    }

    fn verify(secret: &str, body: &str, sig: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    pub async fn next(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("webhook within 5 s").unwrap()
    }

    #[tokio::test]
    async fn pass_delivers_signed_events_and_messages_go_to_standby() {
        let t = T::new().await;
        let (url, mut rx) = receiver().await;
        t.emu.set_webhook(AppRole::PageInbox, Some(format!("{url}/hook/page_inbox")));
        t.emu.set_webhook(AppRole::Primary, Some(format!("{url}/hook/primary")));
        let (s, _) = t
            .post(
                AppRole::Primary,
                "pass_thread_control",
                json!({"recipient": {"id": "321"}, "target_app_id": INBOX, "metadata": "m"}),
            )
            .await;
        assert_eq!(s, 200);
        let mut got = [next(&mut rx).await, next(&mut rx).await];
        got.sort();
        for (role, sig, body) in &got {
            let secret = &t.emu.apps().get(role.parse().unwrap()).secret;
            assert!(verify(secret, body, sig), "signature for {role}");
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["object"], "page");
            let ev = &v["entry"][0]["messaging"][0];
            assert_eq!(ev["sender"]["id"], "321");
            assert_eq!(ev["recipient"]["id"], t.emu.page_id());
            assert_eq!(ev["pass_thread_control"]["new_owner_app_id"], INBOX);
            assert_eq!(ev["pass_thread_control"]["previous_owner_app_id"], PRIMARY);
            assert_eq!(ev["pass_thread_control"]["metadata"], "m");
        }
        // Wrong secret does not verify.
        assert!(!verify(&t.emu.apps().secondary.secret, &got[0].2, &got[0].1));

        // A user message: the owner (page inbox) gets `messaging`, the primary `standby`.
        t.emu.simulate_message("321", "hello").await.unwrap();
        let mut got = [next(&mut rx).await, next(&mut rx).await];
        got.sort();
        let page_inbox: Value = serde_json::from_str(&got[0].2).unwrap();
        let primary: Value = serde_json::from_str(&got[1].2).unwrap();
        assert_eq!(page_inbox["entry"][0]["messaging"][0]["message"]["text"], "hello");
        assert_eq!(primary["entry"][0]["standby"][0]["message"]["text"], "hello");

        // Take: the page inbox learns it lost the thread.
        t.post(AppRole::Primary, "take_thread_control", json!({"recipient": {"id": "321"}})).await;
        let (role, _, body) = next(&mut rx).await;
        assert_eq!(role, "page_inbox");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["entry"][0]["messaging"][0]["take_thread_control"]["previous_owner_app_id"], INBOX);
    }
}

#[tokio::test]
async fn conversations_are_deterministic_and_filterable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Emulator>();
    let a = T::new().await;
    let b = T::new().await;
    let q = "conversations?limit=100&fields=snippet,participants,updated_time,tags";
    assert_eq!(a.get(AppRole::Primary, q).await.2["data"], b.get(AppRole::Primary, q).await.2["data"]);
    let (_, _, arch) = a.get(AppRole::Primary, "conversations?folder=page_done&tags=action:archived&fields=tags").await;
    for c in arch["data"].as_array().unwrap() {
        assert_eq!(c["tags"]["data"][0]["name"], "action:archived");
    }
    let mut total = 0;
    for folder in ["inbox", "other", "page_done", "spam"] {
        for platform in ["messenger", "instagram"] {
            let (s, _, v) =
                a.get(AppRole::Primary, &format!("conversations?folder={folder}&platform={platform}&limit=100")).await;
            assert_eq!(s, 200);
            total += v["data"].as_array().unwrap().len();
        }
    }
    assert_eq!(total, 120);

    // `before` walks back from a page.
    let (_, _, p1) = a.get(AppRole::Primary, "conversations?limit=5").await;
    let after = p1["paging"]["cursors"]["after"].as_str().unwrap();
    let (_, _, p2) = a.get(AppRole::Primary, &format!("conversations?limit=5&after={after}")).await;
    let before = p2["paging"]["cursors"]["before"].as_str().unwrap();
    let (_, _, back) = a.get(AppRole::Primary, &format!("conversations?limit=5&before={before}")).await;
    assert_eq!(back["data"], p1["data"]);
}

#[tokio::test]
async fn request_and_release_notify_by_webhook() {
    let t = T::new().await;
    let (url, mut rx) = webhook::receiver().await;
    t.emu.set_webhook(AppRole::Primary, Some(format!("{url}/hook/primary")));
    t.post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "66"}, "target_app_id": SECONDARY}))
        .await;
    let (_, _, body) = webhook::next(&mut rx).await;
    assert!(body.contains("pass_thread_control"));
    t.emu.set_webhook(AppRole::Secondary, Some(format!("{url}/hook/secondary")));
    let (s, _) = t
        .post(AppRole::Primary, "request_thread_control", json!({"recipient": {"id": "66"}, "metadata": "give"}))
        .await;
    assert_eq!(s, 200);
    let (role, _, body) = webhook::next(&mut rx).await;
    assert_eq!(role, "secondary");
    let v: Value = serde_json::from_str(&body).unwrap();
    let ev = &v["entry"][0]["messaging"][0]["request_thread_control"];
    assert_eq!(ev["requested_owner_app_id"], PRIMARY);
    assert_eq!(ev["metadata"], "give");
    let (s, _) = t.post(AppRole::Secondary, "release_thread_control", json!({"recipient": {"id": "66"}})).await;
    assert_eq!(s, 200);
    let (role, _, body) = webhook::next(&mut rx).await;
    assert_eq!(role, "primary");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["entry"][0]["messaging"][0]["pass_thread_control"]["new_owner_app_id"], PRIMARY);
    assert_eq!(t.emu.state()["pending_requests"][0]["requested_owner_app_id"], PRIMARY);
}

#[tokio::test]
async fn scripted_server_records_and_serves_in_order() {
    let s = ScriptedServer::start().await.unwrap();
    s.push_response(ScriptedResponse {
        status: 200,
        headers: [("X-App-Usage".to_string(), "{}".to_string())].into(),
        body: r#"{"data":[]}"#.to_string(),
    })
    .unwrap();
    for status in [1, 99, 1000] {
        let refused = s.push_response(ScriptedResponse { status, ..ScriptedResponse::default() });
        assert!(refused.unwrap_err().contains("100-999"), "status {status} refused");
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http
        .post(format!("{}/v26.0/me/take_thread_control?a=1&b=x%20y", s.url()))
        .header("Authorization", "Bearer T")
        .body(r#"{"recipient":{"id":"1"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-app-usage"], "{}");
    assert_eq!(r.text().await.unwrap(), r#"{"data":[]}"#);
    let r = http.get(format!("{}/x", s.url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 599);
    let b: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(b["error"]["code"], -1);

    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v26.0/me/take_thread_control");
    assert_eq!(reqs[0].query, [("a".to_string(), "1".to_string()), ("b".to_string(), "x y".to_string())]);
    assert_eq!(reqs[0].headers["authorization"], "Bearer T");
    assert_eq!(reqs[0].body, r#"{"recipient":{"id":"1"}}"#);
    s.clear();
    assert!(s.requests().is_empty());
    s.shutdown().await;
}

trait JsonBody {
    fn json_body(self, v: Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: Value) -> Self {
        self.header("content-type", "application/json").body(v.to_string())
    }
}
