//! Graph batch requests: the shared vectors of `tests/conformance/batch/`
//! against the scripted server (format: `tests/conformance/batch/README.md`),
//! and the client against the emulator's batch endpoint over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{bot, emulator_in as emulator, fault, log};
use messenger_handover::{BatchOp, BatchValue, Client, Error, ErrorKind, Platform, PAGE_INBOX_APP_ID};
use messenger_handover_emulator::scripted::{RecordedRequest, ScriptedResponse, ScriptedServer};
use messenger_handover_emulator::{Emulator, Mode};
use serde_json::{json, Value};

const TOKEN: &str = "conformance-token-7f3a";

// ------------------------------------------------------------------ vectors

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/batch");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_batch_vector_passes() {
    let files = vector_files();
    assert!(files.len() >= 8, "only {} batch vectors", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for p in run_vector(&stem, &v).await {
            failures.push(format!("{stem}: {p}"));
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n  {}", failures.len(), failures.join("\n  "));
}

async fn run_vector(stem: &str, v: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if v["name"].as_str() != Some(stem) {
        problems.push(format!("name {} is not the file's", v["name"]));
    }
    if v["description"].as_str().is_none_or(str::is_empty) {
        problems.push("no description".into());
    }
    let server = ScriptedServer::start().await.unwrap();
    for r in v["responses"].as_array().expect("responses is a list") {
        let body = match (r.get("body"), r.get("body_text")) {
            (Some(b), None) => b.to_string(),
            (None, Some(t)) => t.as_str().unwrap().to_owned(),
            _ => panic!("{stem}: a response needs body or body_text"),
        };
        let mut headers = BTreeMap::new();
        if r.get("body").is_some() {
            headers.insert("content-type".to_owned(), "application/json".to_owned());
        }
        if let Some(h) = r.get("headers").and_then(Value::as_object) {
            headers.extend(h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())));
        }
        server.push_response(ScriptedResponse { status: r["status"].as_u64().unwrap() as u16, headers, body }).unwrap();
    }
    let overrides = &v["client"];
    let mut builder = Client::builder(TOKEN)
        .base_url(server.url())
        .max_retries(overrides["max_retries"].as_u64().unwrap_or(0) as u32)
        .retry_base_delay(Duration::from_millis(1));
    if let Some(p) = overrides["page_id"].as_str() {
        builder = builder.page_id(p);
    }
    if let Some(s) = overrides["app_secret"].as_str() {
        builder = builder.app_secret(s);
    }
    let client = builder.build().unwrap();
    let args = &v["call"]["args"];
    let outcome: Result<Vec<Value>, Error> = match v["call"]["op"].as_str() {
        Some("batch") => {
            let ops: Vec<BatchOp> = match serde_json::from_value(args["operations"].clone()) {
                Ok(ops) => ops,
                Err(e) => return vec![format!("call.args.operations do not parse: {e}")],
            };
            client.batch(ops).await.map(|rs| rs.iter().map(canonical).collect())
        }
        Some("thread_owners") => {
            let psids: Vec<String> = serde_json::from_value(args["psids"].clone()).unwrap();
            client
                .thread_owners(psids)
                .await
                .map(|rs| rs.into_iter().map(|r| canonical(&r.map(BatchValue::ThreadOwner))).collect::<Vec<_>>())
        }
        other => return vec![format!("unknown op {other:?}")],
    };
    let requests = server.requests();
    server.shutdown().await;

    // Requests: `requests` lists each HTTP request expected, in order.
    match v.get("requests") {
        Some(Value::Array(want)) => {
            if want.len() != requests.len() {
                problems.push(format!("{} request(s) instead of {}", requests.len(), want.len()));
            }
            for (i, (w, got)) in want.iter().zip(&requests).enumerate() {
                check_request(i, w, got, &mut problems);
            }
        }
        _ => problems.push("\"requests\" must be a list (empty: nothing may be sent)".into()),
    }
    for (i, r) in requests.iter().enumerate() {
        if r.path.contains(TOKEN) || r.body.contains(TOKEN) || r.query.iter().any(|(_, val)| val.contains(TOKEN)) {
            problems.push(format!("request {i} carries the token outside the Authorization header"));
        }
    }

    let expect = &v["expect"];
    match (outcome, expect.get("results"), expect.get("error")) {
        (Ok(got), Some(Value::Array(want)), None) => {
            if got.len() != want.len() {
                problems.push(format!("{} results instead of {}", got.len(), want.len()));
            }
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                check_result(i, w, g, &mut problems);
            }
        }
        (Err(e), None, Some(want)) => check_error("the call", want, &error_json(&e), &mut problems),
        (Ok(got), _, _) => problems.push(format!("unexpected results {got:?}")),
        (Err(e), _, _) => problems.push(format!("unexpected error {e}")),
    }
    problems
}

fn error_json(e: &Error) -> Value {
    let g = e.graph();
    json!({
        "kind": e.kind().as_str(),
        "code": g.map(|g| g.code),
        "subcode": g.and_then(|g| g.subcode),
        "http_status": e.http_status(),
        "hint": g.and_then(|g| g.hint),
        "message": e.to_string(),
        "argument": match e { Error::InvalidInput { argument, .. } => json!(argument), _ => Value::Null },
    })
}

/// One result as plain data: `{"value": ...}` or `{"error": {...}}`.
fn canonical(r: &Result<BatchValue, Error>) -> Value {
    match r {
        Ok(v) => json!({ "value": serde_json::to_value(v).unwrap() }),
        Err(e) => json!({ "error": error_json(e) }),
    }
}

fn check_result(i: usize, want: &Value, got: &Value, problems: &mut Vec<String>) {
    match (want.get("value"), want.get("error")) {
        (Some(w), None) => {
            if got.get("value") != Some(w) {
                problems.push(format!("result {i}: {got} instead of value {w}"));
            }
        }
        (None, Some(w)) => match got.get("error") {
            Some(g) => check_error(&format!("result {i}"), w, g, problems),
            None => problems.push(format!("result {i}: {got} instead of error {w}")),
        },
        _ => problems.push(format!("expected result {i} needs exactly one of value or error")),
    }
}

/// Each key of the expected error must match; `message_contains` is a substring.
fn check_error(what: &str, want: &Value, got: &Value, problems: &mut Vec<String>) {
    for (k, w) in want.as_object().expect("an error is an object") {
        let ok = match k.as_str() {
            "message_contains" => got["message"].as_str().unwrap().contains(w.as_str().unwrap()),
            _ => &got[k] == w,
        };
        if !ok {
            problems.push(format!("{what}: error {k} is {} instead of {w} ({})", got[k], got["message"]));
        }
    }
    if got["message"].as_str().unwrap_or("").contains(TOKEN) {
        problems.push(format!("{what}: the error shows the token"));
    }
}

/// `relative_url` compared as path plus decoded query; `body` as decoded form fields.
fn split_relative(url: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    (path.to_owned(), url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
}

fn check_request(i: usize, want: &Value, got: &RecordedRequest, problems: &mut Vec<String>) {
    if got.method != want["method"].as_str().unwrap_or("POST") || got.path != want["path"].as_str().unwrap_or("/") {
        problems
            .push(format!("request {i}: {} {} instead of {} {}", got.method, got.path, want["method"], want["path"]));
    }
    let query: BTreeMap<String, String> = got.query.iter().cloned().collect();
    let want_query: BTreeMap<String, String> =
        serde_json::from_value(want.get("query").cloned().unwrap_or_else(|| json!({}))).unwrap();
    if query != want_query {
        problems.push(format!("request {i}: query {query:?} instead of {want_query:?}"));
    }
    if let Some(h) = want.get("headers").and_then(Value::as_object) {
        for (name, w) in h {
            if got.headers.get(name).map(String::as_str) != w.as_str() {
                problems.push(format!("request {i}: header {name} is {:?} instead of {w}", got.headers.get(name)));
            }
        }
    }
    let mut form: BTreeMap<String, String> = url::form_urlencoded::parse(got.body.as_bytes()).into_owned().collect();
    let Some(batch) = form.remove("batch") else {
        problems.push(format!("request {i}: no batch field in the body {:?}", got.body));
        return;
    };
    let want_form: BTreeMap<String, String> =
        serde_json::from_value(want.get("form").cloned().unwrap_or_else(|| json!({}))).unwrap();
    if form != want_form {
        problems.push(format!("request {i}: form fields {form:?} instead of {want_form:?}"));
    }
    let items: Vec<Value> = match serde_json::from_str(&batch) {
        Ok(Value::Array(items)) => items,
        _ => {
            problems.push(format!("request {i}: batch is not a JSON array: {batch}"));
            return;
        }
    };
    let want_items = want["batch"].as_array().expect("request.batch is a list");
    if items.len() != want_items.len() {
        problems.push(format!("request {i}: {} operations instead of {}", items.len(), want_items.len()));
    }
    for (j, (w, g)) in want_items.iter().zip(&items).enumerate() {
        let keys: Vec<&String> = g.as_object().unwrap().keys().collect();
        if keys.iter().any(|k| !["method", "relative_url", "body"].contains(&k.as_str())) {
            problems.push(format!("request {i} operation {j}: unexpected keys {keys:?}"));
        }
        if g["method"] != w["method"] {
            problems.push(format!("request {i} operation {j}: method {} instead of {}", g["method"], w["method"]));
        }
        let (gp, gq) = split_relative(g["relative_url"].as_str().unwrap_or(""));
        let (wp, wq) = split_relative(w["relative_url"].as_str().unwrap());
        if (gp.as_str(), &gq) != (wp.as_str(), &wq) {
            problems.push(format!(
                "request {i} operation {j}: relative_url {} instead of {}",
                g["relative_url"], w["relative_url"]
            ));
        }
        let gb: Option<BTreeMap<String, String>> =
            g["body"].as_str().map(|b| url::form_urlencoded::parse(b.as_bytes()).into_owned().collect());
        let wb: Option<BTreeMap<String, String>> = serde_json::from_value(w["body"].clone()).unwrap();
        if gb != wb {
            problems.push(format!("request {i} operation {j}: body {gb:?} instead of {wb:?}"));
        }
    }
}

// ----------------------------------------------------------------- emulator

/// Outer batch requests the emulator saw (its operations are logged apart).
fn batch_requests(emu: &Emulator) -> usize {
    log(emu).iter().filter(|r| r["method"] == "POST" && r["path"] == "/" && r.get("batch_index").is_none()).count()
}

/// Logged operations on this edge for this PSID (GET query or POST body).
fn operations_for(emu: &Emulator, edge: &str, psid: &str) -> usize {
    log(emu)
        .iter()
        .filter(|r| r.get("batch_index").is_some() && r["path"].as_str().unwrap().ends_with(edge))
        .filter(|r| r["query"]["recipient"] == psid || r["body"]["recipient"]["id"] == psid)
        .count()
}

fn psid(i: usize) -> String {
    format!("{}", 4_000_000_000u64 + i as u64)
}

/// 120 operations in a pattern of five (50 is a multiple of five, so an
/// operation's slot in its request says its kind): pass to the inbox,
/// thread_owner, pass to an app without a role, thread_owner of an unknown
/// user (a PSID with a leading 0, to the emulator), secondary_receivers.
#[tokio::test]
async fn batch_of_120_mixed_operations() {
    let emu = emulator(Mode::Handover).await;
    let client = bot(&emu);
    // Slot 5 of some request: a pass that runs, then answers null (never resent).
    fault(&emu, json!({"match": {"batch_index": 5}, "action": {"type": "null_item", "applied": true}}));
    // Slot 10 of some request: a pass refused as blocked (368).
    fault(
        &emu,
        json!({"match": {"batch_index": 10}, "action": {"type": "graph_error", "error": {"code": 368, "message": "(#368) Temporarily blocked for policies violations"}}}),
    );
    let ops: Vec<BatchOp> = (0..120)
        .map(|i| match i % 5 {
            0 => BatchOp::pass_thread_control_to_page_inbox(psid(i), Some("human please"), None),
            1 => BatchOp::thread_owner(psid(i)),
            2 => BatchOp::pass_thread_control(psid(i), "999999999", None),
            3 => BatchOp::thread_owner(format!("0{i}")),
            _ => BatchOp::secondary_receivers(),
        })
        .collect();
    let results = client.batch(ops).await.unwrap();
    assert_eq!(results.len(), 120);
    assert_eq!(batch_requests(&emu), 3, "120 operations take 3 requests of at most 50");

    let (mut nulls, mut blocked) = (Vec::new(), Vec::new());
    for (i, r) in results.iter().enumerate() {
        match (i % 5, r) {
            (0, Ok(BatchValue::Done)) => {}
            (0, Err(e)) if e.kind() == ErrorKind::Transport => nulls.push(i),
            (0, Err(e)) if e.kind() == ErrorKind::Blocked => blocked.push(i),
            (1, Ok(BatchValue::ThreadOwner(Some(o)))) => assert_eq!(o.app_id, emu.apps().primary.app_id, "{i}"),
            (2, Err(e)) => {
                assert_eq!(e.kind(), ErrorKind::ThreadControl, "{i}: {e}");
                assert!(e.graph().unwrap().hint.is_some(), "{i}: a thread-control error carries a hint");
            }
            (3, Err(e)) => assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{i}: {e}"),
            (4, Ok(BatchValue::SecondaryReceivers(apps))) => {
                assert!(apps.iter().any(|a| a.id == PAGE_INBOX_APP_ID), "{i}")
            }
            (_, other) => panic!("operation {i} answered {other:?}"),
        }
    }
    assert_eq!(nulls.len(), 1, "one null item: {nulls:?}");
    assert_eq!(blocked.len(), 1, "one blocked item: {blocked:?}");
    assert_eq!(nulls[0] % 50, 5);
    assert_eq!(blocked[0] % 50, 10);
    let null_psid = psid(nulls[0]);
    assert!(results[nulls[0]].as_ref().unwrap_err().to_string().contains("not sent again"));
    // The null pass ran and was never resent.
    assert_eq!(operations_for(&emu, "/pass_thread_control", &null_psid), 1);
    assert_eq!(emu.state()["threads"][&null_psid]["owner"], json!(PAGE_INBOX_APP_ID));
    for entry in log(&emu) {
        assert_eq!(entry["token_in_query"], json!(false), "{entry}");
    }
}

#[tokio::test]
async fn per_item_retry_rules() {
    let emu = emulator(Mode::Handover).await;
    let client = bot(&emu);
    // Slot 0 (a GET): a server error, then fine: resent alone.
    fault(
        &emu,
        json!({"match": {"batch_index": 0}, "action": {"type": "graph_error", "error": {"code": 2, "message": "Service temporarily unavailable", "is_transient": true}}}),
    );
    // Slot 1 (a POST): throttled, not run: resent.
    fault(
        &emu,
        json!({"match": {"batch_index": 1}, "action": {"type": "graph_error", "error": {"code": 613, "message": "Calls to this api have exceeded the rate limit."}}}),
    );
    // Slot 2 (a POST): a server error: it may have run, never resent.
    fault(
        &emu,
        json!({"match": {"batch_index": 2}, "action": {"type": "graph_error", "error": {"code": 1, "message": "An unknown error occurred"}}}),
    );
    // Slot 3 (a GET): null: resent.
    fault(&emu, json!({"match": {"batch_index": 3}, "action": {"type": "null_item"}}));
    let ops = vec![
        BatchOp::thread_owner("11"),
        BatchOp::pass_thread_control_to_page_inbox("12", None, None),
        BatchOp::pass_thread_control_to_page_inbox("13", None, None),
        BatchOp::thread_owner("14"),
    ];
    let results = client.batch(ops).await.unwrap();
    assert!(matches!(results[0], Ok(BatchValue::ThreadOwner(Some(_)))), "{:?}", results[0]);
    assert!(matches!(results[1], Ok(BatchValue::Done)), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::Server);
    assert!(matches!(results[3], Ok(BatchValue::ThreadOwner(Some(_)))), "{:?}", results[3]);
    assert_eq!(operations_for(&emu, "/thread_owner", "11"), 2);
    assert_eq!(operations_for(&emu, "/pass_thread_control", "12"), 2);
    assert_eq!(operations_for(&emu, "/pass_thread_control", "13"), 1);
    assert_eq!(operations_for(&emu, "/thread_owner", "14"), 2);
    assert_eq!(batch_requests(&emu), 2, "the retried operations travel together in one more request");
}

#[tokio::test]
async fn thread_owners_for_500_psids() {
    let emu = emulator(Mode::Routing).await;
    let client = bot(&emu);
    let psids: Vec<String> = (0..500).map(psid).collect();
    // A few threads taken first, so the answers differ by PSID.
    for p in psids.iter().step_by(50) {
        client.take_thread_control(p, None).await.unwrap();
    }
    emu.clear_request_log();
    let owners = client.thread_owners(psids.clone()).await.unwrap();
    assert_eq!(owners.len(), 500);
    for (i, owner) in owners.iter().enumerate() {
        let owner = owner.as_ref().unwrap_or_else(|e| panic!("{i}: {e}"));
        if i % 50 == 0 {
            let o = owner.as_ref().expect("taken threads are owned");
            assert_eq!(o.app_id, emu.apps().primary.app_id);
            assert!(o.expiration.is_some(), "routing mode answers the expiration");
        } else {
            assert_eq!(owner, &None, "{i}: untouched threads are idle");
        }
    }
    assert_eq!(batch_requests(&emu), 10);
}

#[tokio::test]
async fn bad_operations_are_refused_before_sending() {
    let emu = emulator(Mode::Handover).await;
    let client = bot(&emu);
    let err = client
        .batch(vec![BatchOp::thread_owner("1"), BatchOp::pass_thread_control("2", "12a", None)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { argument: "target_app_id", .. }), "{err}");
    assert!(err.to_string().contains("batch operation 1"), "{err}");
    let err = client.thread_owners(["1", "a/b"]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { argument: "psid", .. }), "{err}");
    // A PSID is digits, in a batch as in a single call: a token passed as one stays here.
    for op in [BatchOp::thread_owner("EAAGnotapsid"), BatchOp::take_thread_control("12ab", None)] {
        let err = client.batch(vec![op]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { argument: "psid", .. }), "{err}");
        assert!(!err.to_string().contains("EAAG"), "{err}");
    }
    let err = client.batch(vec![BatchOp::extend_thread_control("1", Duration::from_secs(604_801))]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { argument: "duration", .. }), "{err}");
    assert!(client.batch(Vec::new()).await.unwrap().is_empty());
    assert!(log(&emu).is_empty(), "nothing was sent");
    // And the instagram inbox op builds from plain data.
    let op: BatchOp = serde_json::from_value(
        json!({"op": "pass_thread_control_to_page_inbox", "psid": "1", "platform": "instagram"}),
    )
    .unwrap();
    assert_eq!(op, BatchOp::pass_thread_control_to_page_inbox("1", None, Some(Platform::Instagram)));
}
