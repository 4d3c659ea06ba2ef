//! Conversation Routing as Meta documents it, over real HTTP, on the emulated clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger_handover_emulator::{AppRole, EmulatorConfig, FeatureStatus, Mode};
use serde_json::{json, Value};

const PRIMARY: &str = "1111111111111";
const SECONDARY: &str = "2222222222222";
const IG_INBOX: &str = "1217981644879628";

mod common;
use common::T;

async fn routing(default_app: Option<AppRole>) -> T {
    T::with(EmulatorConfig { mode: Mode::Routing, default_app, ..Default::default() }).await
}

async fn owner_as(t: &T, role: AppRole, psid: &str) -> Value {
    let (s, _, b) = t.get(role, &format!("thread_owner?recipient={psid}")).await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn send(t: &T, role: AppRole, psid: &str) -> (u16, Value) {
    t.post(role, "messages", json!({"recipient": {"id": psid}, "message": {"text": "hi"}})).await
}

/// `GET /{version}/me{path}` for the Page node itself: status and body.
async fn page(t: &T, role: AppRole, query: &str) -> (u16, Value) {
    t.get_node(role, &format!("me{query}")).await
}

fn r(psid: &str) -> Value {
    json!({"recipient": {"id": psid}})
}

fn subcode(b: &Value) -> Option<i64> {
    b["error"]["error_subcode"].as_i64()
}

#[tokio::test]
async fn a_user_message_gives_an_idle_thread_to_the_default_app_for_24_hours() {
    let t = routing(Some(AppRole::Primary)).await;
    assert_eq!(owner_as(&t, AppRole::Primary, "11").await, json!({"data": []}));
    t.emu.simulate_message("11", "hello").await.unwrap();
    let b = owner_as(&t, AppRole::Primary, "11").await;
    assert_eq!(b["data"][0]["thread_owner"]["app_id"], PRIMARY);
    // Another app sees only until when the thread is held.
    let other = owner_as(&t, AppRole::Secondary, "11").await;
    assert_eq!(other["data"][0].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["expiration"]);
    assert_eq!(other["data"][0]["expiration"], b["data"][0]["expiration"]);
    // 23 h later a message keeps it; 24 h of silence after that makes it idle.
    t.emu.advance_clock(23 * 3600).unwrap();
    t.emu.simulate_message("11", "still there?").await.unwrap();
    t.emu.advance_clock(23 * 3600).unwrap();
    assert_eq!(owner_as(&t, AppRole::Primary, "11").await["data"][0]["thread_owner"]["app_id"], PRIMARY);
    t.emu.advance_clock(3600).unwrap();
    assert_eq!(owner_as(&t, AppRole::Primary, "11").await, json!({"data": []}));
    assert_eq!(t.emu.state()["threads"]["11"]["owner"], Value::Null);
}

#[tokio::test]
async fn only_the_default_app_may_send_on_an_idle_thread() {
    let t = routing(Some(AppRole::Primary)).await;
    let (s, b) = send(&t, AppRole::Secondary, "12").await;
    assert_eq!((s, subcode(&b)), (400, Some(2018300)), "{b}");
    let (s, b) = send(&t, AppRole::Primary, "12").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["recipient_id"], "12");
    // Once the secondary owns it, the default app may not send.
    t.post(AppRole::Primary, "take_thread_control", r("12")).await;
    let (s, _) = t
        .post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "12"}, "target_app_id": SECONDARY}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(send(&t, AppRole::Secondary, "12").await.0, 200);
    assert_eq!(subcode(&send(&t, AppRole::Primary, "12").await.1), Some(2018300));
    // The default app still learns the owner; a third app does not.
    assert_eq!(owner_as(&t, AppRole::Primary, "12").await["data"][0]["thread_owner"]["app_id"], SECONDARY);
    assert!(owner_as(&t, AppRole::PageInbox, "12").await["data"][0].get("thread_owner").is_none());
    // Released: idle again, and the owner's expiration is gone.
    assert_eq!(t.post(AppRole::Secondary, "release_thread_control", r("12")).await.0, 200);
    assert_eq!(owner_as(&t, AppRole::Secondary, "12").await, json!({"data": []}));
    let (s, b) = send(&t, AppRole::Secondary, "12").await;
    assert_eq!((s, subcode(&b)), (400, Some(2018300)));
    let (_, b) = t.post(AppRole::Primary, "messages", json!({"recipient": {"id": "12"}})).await;
    assert_eq!(b["error"]["code"], 100);
}

#[tokio::test]
async fn without_a_default_app_take_answers_27_and_every_app_may_answer() {
    let t = routing(None).await;
    let (s, b) = t.post(AppRole::Primary, "take_thread_control", r("13")).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["code"], 27);
    assert_eq!(
        b["error"]["message"],
        "(#27) Take thread control is not supported when Conversation Routing is not enabled"
    );
    assert_eq!(send(&t, AppRole::Secondary, "13").await.0, 200);
    // A user message leaves the thread idle; pass works on it.
    t.emu.simulate_message("13", "hi").await.unwrap();
    assert_eq!(owner_as(&t, AppRole::Primary, "13").await, json!({"data": []}));
    let (s, b) = t
        .post(AppRole::Secondary, "pass_thread_control", json!({"recipient": {"id": "13"}, "target_app_id": PRIMARY}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(owner_as(&t, AppRole::Primary, "13").await["data"][0]["thread_owner"]["app_id"], PRIMARY);
    // A default app set later makes take work (admin API).
    let resp = t
        .http
        .put(format!("{}/_emulator/default_app", t.emu.url()))
        .body(r#"{"app": "secondary"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(t.post(AppRole::Secondary, "take_thread_control", r("13")).await.0, 200);
    let (_, b) = t.post(AppRole::Primary, "take_thread_control", r("13")).await;
    assert_eq!(b["error"]["code"], 2018171);
    t.emu.set_default_app(None);
    assert_eq!(t.post(AppRole::Secondary, "take_thread_control", r("13")).await.1["error"]["code"], 27);
}

#[tokio::test]
async fn request_on_an_idle_thread_passes_it_and_extend_is_capped_at_7_days() {
    let t = routing(Some(AppRole::Primary)).await;
    let (s, b) = t.post(AppRole::Secondary, "request_thread_control", r("14")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(owner_as(&t, AppRole::Secondary, "14").await["data"][0]["thread_owner"]["app_id"], SECONDARY);
    assert_eq!(t.emu.state()["pending_requests"], json!([]));
    // On an owned thread, request only asks the owner.
    assert_eq!(t.post(AppRole::PageInbox, "request_thread_control", r("14")).await.0, 200);
    assert_eq!(owner_as(&t, AppRole::Secondary, "14").await["data"][0]["thread_owner"]["app_id"], SECONDARY);
    assert_eq!(t.emu.state()["pending_requests"][0]["requested_owner_app_id"], "263902037430900");

    let extend = |d: i64| json!({"recipient": {"id": "14"}, "duration": d});
    assert_eq!(t.post(AppRole::Secondary, "extend_thread_control", extend(7 * 86400)).await.0, 200);
    assert_eq!(t.post(AppRole::Secondary, "extend_thread_control", extend(7 * 86400 + 1)).await.0, 400);
    let (_, b) = t.post(AppRole::Primary, "extend_thread_control", extend(60)).await;
    assert_eq!(subcode(&b), Some(2018300));
    // The extension outlives the 24 h idle rule, and then ends.
    t.emu.advance_clock(6 * 86400).unwrap();
    assert_eq!(owner_as(&t, AppRole::Secondary, "14").await["data"][0]["thread_owner"]["app_id"], SECONDARY);
    t.emu.advance_clock(86400).unwrap();
    assert_eq!(owner_as(&t, AppRole::Secondary, "14").await, json!({"data": []}));
    let (_, b) = t.post(AppRole::Secondary, "extend_thread_control", extend(60)).await;
    assert_eq!(subcode(&b), Some(2534037));
    // The clock only moves forward, through the admin API too.
    assert!(t.emu.advance_clock(-1).is_err());
    let resp =
        t.http.post(format!("{}/_emulator/clock", t.emu.url())).body(r#"{"advance_secs": 60}"#).send().await.unwrap();
    let b: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(b["now"].as_str().unwrap().ends_with("+0000"));
}

#[tokio::test]
async fn instagram_inbox_and_feature_status() {
    let t = routing(Some(AppRole::Primary)).await;
    t.post(AppRole::Primary, "take_thread_control", r("15")).await;
    let (s, b) = t
        .post(AppRole::Primary, "pass_thread_control", json!({"recipient": {"id": "15"}, "target_app_id": IG_INBOX}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(owner_as(&t, AppRole::Primary, "15").await["data"][0]["thread_owner"]["app_id"], IG_INBOX);
    assert_eq!(t.emu.state()["threads"]["15"]["owner_role"], "instagram_inbox");
    assert_eq!(t.emu.info()["apps"]["instagram_inbox"]["app_id"], IG_INBOX);

    let (s, b) = page(&t, AppRole::Primary, "?fields=messaging_feature_status").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["messaging_feature_status"], json!({"hop_v2": true, "msgr_multi_app": true, "ig_multi_app": true}));
    t.emu.set_feature_status(FeatureStatus { hop_v2: true, msgr_multi_app: false, ig_multi_app: false });
    let (_, b) = page(&t, AppRole::Secondary, "?fields=id,messaging_feature_status").await;
    assert_eq!(b["messaging_feature_status"]["msgr_multi_app"], false);
    assert_eq!(b["id"], t.emu.page_id());
    let resp = t
        .http
        .put(format!("{}/_emulator/feature_status", t.emu.url()))
        .body(r#"{"ig_multi_app": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (_, b) = page(&t, AppRole::Primary, "?fields=messaging_feature_status").await;
    assert_eq!(b["messaging_feature_status"], json!({"hop_v2": true, "msgr_multi_app": true, "ig_multi_app": true}));
    let (_, b) = page(&t, AppRole::Primary, "?fields=nope").await;
    assert_eq!(b["error"]["code"], 100);
}

#[tokio::test]
async fn handover_mode_keeps_its_rules() {
    let t = T::new().await;
    // The primary owns every thread; take by a secondary is 2018171, not 27.
    let (_, b) = t.post(AppRole::Secondary, "take_thread_control", r("16")).await;
    assert_eq!(b["error"]["code"], 2018171);
    assert_eq!(send(&t, AppRole::Primary, "16").await.0, 200);
    assert_eq!(subcode(&send(&t, AppRole::Secondary, "16").await.1), Some(2018300));
    // The Instagram Inbox is not one of the Page's Messenger receivers.
    let (_, _, b) = t.get(AppRole::Primary, "secondary_receivers").await;
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
}
