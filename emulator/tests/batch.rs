//! The batch endpoint over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, FaultSpec, RateLimitConfig};
use serde_json::{json, Value};

const PRIMARY: &str = "1111111111111";
const INBOX: &str = "263902037430900";

async fn start() -> (Emulator, reqwest::Client) {
    (Emulator::start(EmulatorConfig::default()).await.unwrap(), reqwest::Client::builder().no_proxy().build().unwrap())
}

fn token(emu: &Emulator) -> String {
    emu.apps().get(AppRole::Primary).token.clone()
}

/// Form-encoded, token in the query, as the peers' SDKs send it.
async fn batch_form(
    emu: &Emulator,
    http: &reqwest::Client,
    path: &str,
    ops: &Value,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let batch = ops.to_string();
    let mut form = vec![("batch", batch.as_str())];
    form.extend_from_slice(extra);
    let url = format!("{}{path}?access_token={}", emu.url(), token(emu));
    let resp = http.post(url).form(&form).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, serde_json::from_str(&resp.text().await.unwrap()).unwrap())
}

fn body(item: &Value) -> Value {
    serde_json::from_str(item["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn batch_answers_each_operation_in_order_with_string_bodies() {
    let (emu, http) = start().await;
    let ops = json!([
        {"method": "GET", "relative_url": "me/thread_owner?recipient=100"},
        {"method": "POST", "relative_url": "me/pass_thread_control",
         "body": format!("recipient={}&target_app_id={INBOX}&metadata=human", r#"{"id":"100"}"#)},
        {"method": "GET", "relative_url": "v26.0/me/thread_owner?recipient=100"},
        {"method": "POST", "relative_url": "me/pass_thread_control", "body": {"recipient": {"id": "100"}, "target_app_id": INBOX}},
        {"method": "GET", "relative_url": "me/thread_owner?recipient=abc"},
    ]);
    let (s, b) = batch_form(&emu, &http, "/", &ops, &[]).await;
    assert_eq!(s, 200, "{b}");
    let items = b.as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["code"], 200);
    assert_eq!(body(&items[0])["data"][0]["thread_owner"]["app_id"], PRIMARY);
    assert_eq!(body(&items[1]), json!({"success": true}));
    assert_eq!(body(&items[2])["data"][0]["thread_owner"]["app_id"], INBOX);
    // The primary no longer owns the thread: Graph's own error, per item.
    assert_eq!(items[3]["code"], 400);
    assert_eq!(body(&items[3])["error"]["error_subcode"], 2018300);
    assert_eq!(body(&items[4])["error"]["code"], 100);
    // Headers come as a name/value list unless include_headers=false.
    assert!(items[0]["headers"].as_array().unwrap().iter().any(|h| h["name"] == "x-business-use-case-usage"));
    let (_, b) =
        batch_form(&emu, &http, "/v26.0/", &ops.as_array().unwrap()[..1].into(), &[("include_headers", "false")]).await;
    assert!(b[0].get("headers").is_none(), "{b}");

    // Each operation is logged on its own, with its position; the batch entry keeps only its size.
    let log = emu.request_log();
    let outer: Vec<_> = log.iter().filter(|e| e.batch_index.is_none()).collect();
    assert_eq!(outer.len(), 2);
    assert_eq!(outer[0].path, "/");
    assert_eq!(outer[0].body, Some(json!({"batch_size": 5, "include_headers": true})));
    let items: Vec<_> = log.iter().filter(|e| e.batch_index.is_some()).collect();
    assert_eq!(items.len(), 6);
    assert_eq!(items[1].path, "/v26.0/me/pass_thread_control");
    assert_eq!(items[1].body.as_ref().unwrap()["metadata"], "human");
    assert_eq!(items[4].error_code, Some(100));
    assert_eq!(items.iter().map(|e| e.batch_index.unwrap()).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 0]);
}

#[tokio::test]
async fn batch_refuses_more_than_50_and_a_missing_batch() {
    let (emu, http) = start().await;
    let ops: Vec<Value> = (0..51)
        .map(|i| json!({"method": "GET", "relative_url": format!("me/thread_owner?recipient={}", i + 1)}))
        .collect();
    let (s, b) = batch_form(&emu, &http, "/", &json!(ops), &[]).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["code"], 100);
    assert!(b["error"]["message"].as_str().unwrap().contains("Maximum batch size is 50"), "{b}");
    // Nothing ran.
    assert!(emu.request_log().iter().all(|e| e.batch_index.is_none()));
    let (s, b) = batch_form(&emu, &http, "/", &json!(&ops[..50]), &[]).await;
    assert_eq!((s, b.as_array().unwrap().len()), (200, 50));

    let url = format!("{}/?access_token={}", emu.url(), token(&emu));
    let resp = http.post(url).form(&[("include_headers", "false")]).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // A JSON body and a bearer token work too.
    let resp = http
        .post(format!("{}/v26.0", emu.url()))
        .bearer_auth(token(&emu))
        .header("content-type", "application/json")
        .body(json!({"batch": [{"method": "GET", "relative_url": "me/thread_owner?recipient=9"}]}).to_string())
        .send()
        .await
        .unwrap();
    let b: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(b[0]["code"], 200);
    // A bad token refuses the whole batch.
    let resp =
        http.post(format!("{}/", emu.url())).bearer_auth("EAAGnope").form(&[("batch", "[]")]).send().await.unwrap();
    let b: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(b["error"]["code"], 190);
}

#[tokio::test]
async fn batch_items_count_against_the_rate_limit() {
    let (emu, http) = start().await;
    emu.set_rate_limit(RateLimitConfig { enabled: true, max_calls: 3, window_secs: 3600, ..Default::default() });
    let ops: Vec<Value> = (0..5)
        .map(|i| json!({"method": "GET", "relative_url": format!("me/thread_owner?recipient={}", i + 1)}))
        .collect();
    let (s, b) = batch_form(&emu, &http, "/", &json!(ops), &[]).await;
    assert_eq!(s, 200);
    let codes: Vec<i64> =
        b.as_array().unwrap().iter().map(|i| body(i)["error"]["code"].as_i64().unwrap_or(0)).collect();
    assert_eq!(codes, vec![0, 0, 0, 613, 613]);
    assert_eq!(emu.state()["calls_in_window"], 5);
}

#[tokio::test]
async fn null_item_faults_and_item_faults() {
    let (emu, http) = start().await;
    let fault = |v: Value| emu.inject_fault(serde_json::from_value::<FaultSpec>(v).unwrap());
    // Item 1 runs, then answers null: the pass happened, a resend would fail.
    fault(json!({"match": {"batch_index": 1}, "action": {"type": "null_item", "applied": true}}));
    // Item 2 does not run at all.
    fault(json!({"match": {"batch_index": 2}, "action": {"type": "null_item"}}));
    fault(
        json!({"match": {"in_batch": true, "path_contains": "thread_owner"}, "action": {"type": "graph_error", "error": {"code": 4, "message": "(#4) Application request limit reached"}}}),
    );
    let pass = |psid: &str| {
        json!({"method": "POST", "relative_url": "me/pass_thread_control",
               "body": format!("recipient={{\"id\":\"{psid}\"}}&target_app_id={INBOX}")})
    };
    let ops = json!([{"method": "GET", "relative_url": "me/thread_owner?recipient=7"}, pass("7"), pass("8")]);
    let (s, b) = batch_form(&emu, &http, "/", &ops, &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b[0]["code"], 400);
    assert_eq!(body(&b[0])["error"]["code"], 4);
    assert_eq!((b[1].clone(), b[2].clone()), (Value::Null, Value::Null));
    let state = emu.state();
    assert_eq!(state["threads"]["7"]["owner"], INBOX);
    assert_eq!(state["threads"]["8"]["owner"], Value::Null);
    let faults: Vec<_> = emu.request_log().iter().filter_map(|e| e.fault.clone()).collect();
    assert_eq!(faults, vec!["graph_error", "null_item", "null_item"]);
    // A null-item fault never hits a plain request.
    fault(json!({"action": {"type": "null_item"}}));
    let resp = http
        .get(format!("{}/v26.0/me/thread_owner?recipient=7", emu.url()))
        .bearer_auth(token(&emu))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}
