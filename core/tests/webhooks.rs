//! Webhooks: the shared signature and parsing vectors, and the end-to-end
//! path (a thread-control call, the emulator's signed POST to our own
//! loopback server, verified and parsed here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use messenger_handover::webhooks::{parse_events, verify_signature, verify_subscription, Event};
use messenger_handover::Client;
use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig};
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn vectors(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/webhooks").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// The language-neutral form the vectors use.
fn canonical(event: &Event) -> Value {
    let mut v = serde_json::to_value(event).unwrap();
    let ctx = event.context();
    let obj = v.as_object_mut().unwrap();
    obj.remove("timestamp");
    obj.insert("timestamp_ms".into(), json!(ctx.timestamp.map(|t| t.timestamp_millis())));
    if let Event::Standby { event: inner, .. } = event {
        obj.insert("event".into(), canonical(inner));
    }
    v
}

#[test]
fn signature_vectors() {
    let all = vectors("signatures.json");
    assert!(all.len() >= 10);
    for v in all {
        let header = v["header"].as_str();
        let got = verify_signature(v["app_secret"].as_str().unwrap(), v["body"].as_str().unwrap().as_bytes(), header);
        assert_eq!(got, v["expect"].as_bool().unwrap(), "{}", v["name"]);
    }
}

#[test]
fn event_vectors() {
    for v in vectors("events.json") {
        let body = match v.get("body_text") {
            Some(t) => t.as_str().unwrap().as_bytes().to_vec(),
            None => serde_json::to_vec(&v["body"]).unwrap(),
        };
        let name = &v["name"];
        let expect = &v["expect"];
        match parse_events(&body) {
            Err(e) => assert_eq!(expect["error"], "malformed", "{name}: {e}"),
            Ok(events) => {
                assert!(expect.get("error").is_none(), "{name}: parsed a malformed body");
                if let Some(n) = expect.get("count") {
                    assert_eq!(events.len() as u64, n.as_u64().unwrap(), "{name}");
                    continue;
                }
                let got: Vec<Value> = events.iter().map(canonical).collect();
                assert_eq!(Value::Array(got), expect["events"], "{name}");
            }
        }
    }
}

#[test]
fn subscription_handshake() {
    let q = [("hub.mode", "subscribe"), ("hub.verify_token", "vt"), ("hub.challenge", "1158201444")];
    assert_eq!(verify_subscription(q, "vt").unwrap(), "1158201444");
    assert!(verify_subscription(q, "other").is_err());
    assert!(verify_subscription([("hub.verify_token", "vt"), ("hub.challenge", "1")], "vt").is_err());
}

/// A loopback server that hands every delivery (body, signature) to the test.
async fn webhook_sink() -> (String, mpsc::UnboundedReceiver<(Bytes, Option<String>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let sig = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let _ = tx.send((body, sig));
                "EVENT_RECEIVED"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn next_delivery(rx: &mut mpsc::UnboundedReceiver<(Bytes, Option<String>)>) -> (Bytes, Option<String>) {
    tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a webhook within 5 s").unwrap()
}

#[tokio::test]
async fn pass_to_inbox_delivers_a_signed_event() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (url, mut deliveries) = webhook_sink().await;
    emu.set_webhook(AppRole::Primary, Some(url));
    let apps = emu.apps().clone();
    let bot = Client::builder(&apps.primary.token).base_url(emu.url()).build().unwrap();

    bot.pass_thread_control_to_page_inbox("1357924680", Some("human please")).await.unwrap();
    let (body, signature) = next_delivery(&mut deliveries).await;
    assert!(verify_signature(&apps.primary.secret, &body, signature.as_deref()));
    assert!(!verify_signature(&apps.secondary.secret, &body, signature.as_deref()), "keyed by the receiving app");
    let events = parse_events(&body).unwrap();
    match &events[..] {
        [Event::PassThreadControl { context, new_owner_app_id, metadata, .. }] => {
            assert_eq!(new_owner_app_id, &apps.page_inbox.app_id);
            assert_eq!(metadata.as_deref(), Some("human please"));
            assert_eq!(context.psid.as_deref(), Some("1357924680"));
            assert_eq!(context.page_id, emu.page_id());
            assert!(context.timestamp.is_some());
        }
        other => panic!("expected one pass_thread_control, got {other:?}"),
    }

    // A user writes while the Page Inbox owns the thread: the bot gets a standby copy.
    emu.simulate_message("1357924680", "is anyone there?").await.unwrap();
    let (body, signature) = next_delivery(&mut deliveries).await;
    assert!(verify_signature(&apps.primary.secret, &body, signature.as_deref()));
    let events = parse_events(&body).unwrap();
    assert!(
        matches!(&events[..], [Event::Standby { event, .. }]
            if matches!(&**event, Event::Message { text: Some(t), is_echo: false, .. } if t == "is anyone there?")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_new_primary_receiver_gets_app_roles_and_its_powers() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (bot_url, mut to_bot) = webhook_sink().await;
    let (secondary_url, mut to_secondary) = webhook_sink().await;
    emu.set_webhook(AppRole::Primary, Some(bot_url));
    emu.set_webhook(AppRole::Secondary, Some(secondary_url));
    let apps = emu.apps().clone();

    emu.set_primary_receiver(AppRole::Secondary).await;
    for (rx, app, role) in
        [(&mut to_secondary, &apps.secondary, "primary_receiver"), (&mut to_bot, &apps.primary, "secondary_receiver")]
    {
        let (body, signature) = next_delivery(rx).await;
        assert!(verify_signature(&app.secret, &body, signature.as_deref()));
        match &parse_events(&body).unwrap()[..] {
            [Event::AppRoles { context, roles }] => {
                assert_eq!(roles.get(&app.app_id), Some(&vec![role.to_owned()]), "{roles:?}");
                assert_eq!(context.psid, None, "app_roles concerns the Page, not a thread");
                assert_eq!(context.page_id, emu.page_id());
            }
            other => panic!("expected one app_roles event, got {other:?}"),
        }
    }

    // The secondary app now may take and ask who owns; the old primary may not take.
    let secondary = Client::builder(&apps.secondary.token).base_url(emu.url()).build().unwrap();
    let bot = Client::builder(&apps.primary.token).base_url(emu.url()).build().unwrap();
    secondary.take_thread_control("2468013579", None).await.unwrap();
    assert_eq!(secondary.thread_owner("2468013579").await.unwrap().unwrap().app_id, apps.secondary.app_id);
    let err = bot.take_thread_control("2468013579", None).await.unwrap_err();
    assert_eq!(err.kind().as_str(), "thread_control", "{err}");

    // Setting the same primary again changes nothing and sends nothing.
    emu.set_primary_receiver(AppRole::Secondary).await;
    assert!(tokio::time::timeout(Duration::from_millis(300), to_bot.recv()).await.is_err());
}
