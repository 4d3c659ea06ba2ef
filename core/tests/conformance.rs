//! Runs every shared conformance vector of `tests/conformance/*.json` (format:
//! `tests/conformance/README.md`) against the scripted server: the request
//! that reached the wire and the result or error the client returned must be
//! exactly what the vector says. Every vector runs; all failures are reported
//! together at the end, each with its vector's name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use messenger_handover::{Client, ConversationsQuery, Error, Folder, Platform, DEFAULT_FIELDS};
use messenger_handover_emulator::scripted::{RecordedRequest, ScriptedResponse, ScriptedServer};
use serde_json::{json, Map, Value};

const TOKEN: &str = "conformance-token-7f3a";
const MIN_VECTORS: usize = 40;
const OPS: [&str; 9] = [
    "thread_owner",
    "pass_thread_control",
    "pass_thread_control_to_page_inbox",
    "take_thread_control",
    "request_thread_control",
    "release_thread_control",
    "extend_thread_control",
    "secondary_receivers",
    "conversations_page",
];
const ERROR_FIELDS: [&str; 10] = [
    "kind",
    "code",
    "subcode",
    "error_type",
    "http_status",
    "fbtrace_id",
    "is_transient",
    "retry_after",
    "message_contains",
    "argument",
];

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("conformance")
}

/// Every `*.json` file of the vector directory, sorted by name.
fn vector_files() -> Vec<PathBuf> {
    let dir = vector_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // invalid_input*.json has its own shape and runner (below).
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("invalid_input")))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_at_least_40_vectors_covering_every_operation() {
    let files = vector_files();
    assert!(files.len() >= MIN_VECTORS, "only {} conformance vectors, want at least {MIN_VECTORS}", files.len());
    for op in OPS {
        let prefix = format!("{op}__");
        assert!(
            files.iter().any(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix))),
            "no vector for operation {op}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conformance_vector_passes() {
    let files = vector_files();
    assert!(!files.is_empty(), "no vectors in {}", vector_dir().display());
    let mut failures: Vec<String> = Vec::new();
    for file in &files {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned();
        let problems = match load(file) {
            Ok(vector) => run_vector(&stem, &vector).await,
            Err(e) => vec![e],
        };
        for p in problems {
            failures.push(format!("{stem}: {p}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {} vectors:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}

fn load(file: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("a vector must be a JSON object".into());
    }
    Ok(v)
}

/// What the client answered, in the README's canonical shape (or the error).
type Outcome = Result<Value, Error>;

async fn run_vector(stem: &str, v: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if v["name"].as_str() != Some(stem) {
        problems.push(format!("\"name\" is {}, the file is {stem}.json", v["name"]));
    }
    if v["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
        problems.push("no description".into());
    }
    let Some(op) = v["call"]["op"].as_str() else {
        problems.push("call.op is missing".into());
        return problems;
    };
    if !OPS.contains(&op) {
        problems.push(format!("unknown op {op:?}"));
        return problems;
    }
    if !stem.starts_with(&format!("{op}__")) {
        problems.push(format!("file name does not start with {op}__"));
    }

    let server = match ScriptedServer::start().await {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("cannot start the scripted server: {e}"));
            return problems;
        }
    };
    match queued_responses(v) {
        Ok(responses) => {
            responses.into_iter().for_each(|r| server.push_response(r).expect("a vector's status is HTTP's"))
        }
        Err(e) => {
            problems.push(e);
            return problems;
        }
    }
    let client = match build_client(v, server.url()) {
        Ok(c) => c,
        Err(e) => {
            problems.push(e);
            return problems;
        }
    };

    let args = v["call"].get("args").cloned().unwrap_or_else(|| json!({}));
    let call = tokio::time::timeout(Duration::from_secs(30), call_op(&client, op, &args, &server)).await;
    let outcome = match call {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(vector_error)) => {
            problems.push(vector_error);
            return problems;
        }
        Err(_) => {
            problems.push("the call did not finish within 30 s".into());
            return problems;
        }
    };
    drop(client);
    let requests = server.requests();
    server.shutdown().await;

    check_requests(v, op, &outcome, &requests, &mut problems);
    check_outcome(v, op, &outcome, &mut problems);
    problems
}

fn queued_responses(v: &Value) -> Result<Vec<ScriptedResponse>, String> {
    let list: Vec<&Value> = match (v.get("response"), v.get("responses")) {
        (Some(r), None) => vec![r],
        (None, Some(Value::Array(rs))) if !rs.is_empty() => rs.iter().collect(),
        _ => return Err("exactly one of \"response\" or a non-empty \"responses\" is required".into()),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let status = r["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| format!("response {i}: status is not an HTTP status"))?;
            let mut headers = BTreeMap::new();
            if let Some(h) = r.get("headers") {
                let h = h.as_object().ok_or_else(|| format!("response {i}: headers is not an object"))?;
                for (k, val) in h {
                    let val = val.as_str().ok_or_else(|| format!("response {i}: header {k} is not a string"))?;
                    headers.insert(k.clone(), val.to_owned());
                }
            }
            let body = match (r.get("body"), r.get("body_text")) {
                (Some(b), None) => {
                    if !headers.keys().any(|k| k.eq_ignore_ascii_case("content-type")) {
                        headers.insert("content-type".into(), "application/json".into());
                    }
                    serde_json::to_string(b).map_err(|e| e.to_string())?
                }
                (None, Some(Value::String(t))) => t.clone(),
                _ => return Err(format!("response {i}: exactly one of body or body_text (a string) is required")),
            };
            Ok(ScriptedResponse { status, headers, body })
        })
        .collect()
}

fn build_client(v: &Value, url: &str) -> Result<Client, String> {
    let overrides = v.get("client").cloned().unwrap_or_else(|| json!({}));
    let retries = match overrides.get("max_retries") {
        None | Some(Value::Null) => 0,
        Some(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or("client.max_retries is not a count")?,
    };
    let mut builder = Client::builder(TOKEN).base_url(url).max_retries(retries);
    if let Some(p) = overrides.get("page_id").and_then(Value::as_str) {
        builder = builder.page_id(p);
    }
    if let Some(s) = overrides.get("app_secret").and_then(Value::as_str) {
        builder = builder.app_secret(s);
    }
    if let Some(ver) = overrides.get("api_version").and_then(Value::as_str) {
        builder = builder.api_version(ver);
    }
    builder.build().map_err(|e| format!("the client could not be built: {e}"))
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, String> {
    args.get(key).and_then(Value::as_str).ok_or_else(|| format!("call.args.{key} must be a string"))
}

fn opt_str_arg<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("call.args.{key} must be a string or null")),
    }
}

fn str_list_arg(args: &Value, key: &str) -> Result<Option<Vec<String>>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or_else(|| format!("call.args.{key} must hold strings")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("call.args.{key} must be a list of strings")),
    }
}

/// Makes the call. `Err` is a broken vector; `Ok(Err(_))` the client's error.
async fn call_op(client: &Client, op: &str, args: &Value, server: &ScriptedServer) -> Result<Outcome, String> {
    let done = |r: Result<(), Error>| r.map(|()| Value::Null);
    Ok(match op {
        "thread_owner" => client.thread_owner(str_arg(args, "psid")?).await.map(|owner| match owner {
            None => Value::Null,
            Some(o) => json!({ "app_id": o.app_id, "expiration": o.expiration.map(|t| t.to_rfc3339()) }),
        }),
        "pass_thread_control" => done(
            client
                .pass_thread_control(
                    str_arg(args, "psid")?,
                    str_arg(args, "target_app_id")?,
                    opt_str_arg(args, "metadata")?,
                )
                .await,
        ),
        "pass_thread_control_to_page_inbox" => {
            done(client.pass_thread_control_to_page_inbox(str_arg(args, "psid")?, opt_str_arg(args, "metadata")?).await)
        }
        "take_thread_control" => {
            done(client.take_thread_control(str_arg(args, "psid")?, opt_str_arg(args, "metadata")?).await)
        }
        "request_thread_control" => {
            done(client.request_thread_control(str_arg(args, "psid")?, opt_str_arg(args, "metadata")?).await)
        }
        "release_thread_control" => {
            done(client.release_thread_control(str_arg(args, "psid")?, opt_str_arg(args, "metadata")?).await)
        }
        "extend_thread_control" => {
            let secs = args["duration"].as_u64().ok_or("call.args.duration must be a whole number of seconds")?;
            done(client.extend_thread_control(str_arg(args, "psid")?, Duration::from_secs(secs)).await)
        }
        "secondary_receivers" => client
            .secondary_receivers()
            .await
            .map(|apps| Value::Array(apps.into_iter().map(|a| json!({ "id": a.id, "name": a.name })).collect())),
        "conversations_page" => conversations_page(client, args, server).await?,
        other => return Err(format!("unknown op {other:?}")),
    })
}

async fn conversations_page(client: &Client, args: &Value, server: &ScriptedServer) -> Result<Outcome, String> {
    let mut query = ConversationsQuery::new();
    if let Some(f) = opt_str_arg(args, "folder")? {
        match f.parse::<Folder>() {
            Ok(f) => query = query.folder(f),
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(p) = opt_str_arg(args, "platform")? {
        match p.parse::<Platform>() {
            Ok(p) => query = query.platform(p),
            Err(e) => return Ok(Err(e)),
        }
    }
    if let Some(u) = opt_str_arg(args, "user_id")? {
        query = query.user_id(u);
    }
    if let Some(tags) = str_list_arg(args, "tags")? {
        query = query.tags(tags);
    }
    if let Some(fields) = str_list_arg(args, "fields")? {
        query = query.fields(fields);
    }
    match args.get("page_size") {
        None | Some(Value::Null) => {}
        Some(n) => {
            let n = n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or("call.args.page_size must be a count")?;
            query = query.page_size(n);
        }
    }
    if let Some(a) = opt_str_arg(args, "after")? {
        query = query.after(a);
    }
    let mut pager = match client.conversations(query) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let page = match pager.next_page().await {
        Ok(Some(page)) => page,
        Ok(None) => return Err("the pager returned no first page".into()),
        Err(e) => return Ok(Err(e)),
    };
    if page.has_next {
        // The pager prefetches the next page: let that request land so the
        // check below sees it (it must be built from the cursor).
        // Up to 10 s on a loaded machine; the check below demands it.
        for _ in 0..500 {
            if server.requests().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(pager);
    let items: Vec<Value> = page.items.iter().map(|c| serde_json::to_value(c).unwrap_or(Value::Null)).collect();
    Ok(Ok(json!({ "items": items, "after": page.after, "has_next": page.has_next })))
}

// ------------------------------------------------------------------ requests

fn check_requests(v: &Value, op: &str, outcome: &Outcome, requests: &[RecordedRequest], problems: &mut Vec<String>) {
    for (i, r) in requests.iter().enumerate() {
        if r.query.iter().any(|(k, _)| k == "access_token") {
            problems.push(format!("request {i} carries access_token in its query"));
        }
        if r.path.contains(TOKEN) || r.query.iter().any(|(k, val)| k.contains(TOKEN) || val.contains(TOKEN)) {
            problems.push(format!("request {i} carries the token in its URL"));
        }
    }
    let expected = match v.get("request") {
        None => {
            problems.push("\"request\" is missing (null means no request)".into());
            return;
        }
        Some(Value::Null) => {
            if !requests.is_empty() {
                problems.push(format!(
                    "no request may be sent (bad input must be refused first), but {} arrived: {} {}",
                    requests.len(),
                    requests[0].method,
                    requests[0].path
                ));
            }
            return;
        }
        Some(r) => r,
    };
    let count = match v.get("request_count") {
        None | Some(Value::Null) => 1,
        Some(n) => match n.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) => n,
            None => {
                problems.push("request_count is not a count".into());
                return;
            }
        },
    };
    // A conversations page announcing a next page starts its prefetch
    // (DESIGN: prefetch one) before the caller asks for page two: exactly
    // one more request, built from the cursor.
    let prefetched = op == "conversations_page" && outcome.as_ref().is_ok_and(|r| r["has_next"] == Value::Bool(true));
    let total = if prefetched { count + 1 } else { count };
    if requests.len() != total {
        let seen: Vec<String> = requests.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        let why = if prefetched { " (the page and its prefetch)" } else { "" };
        problems.push(format!("expected {total} request(s){why}, {} arrived: {seen:?}", requests.len()));
        return;
    }
    for (i, r) in requests.iter().take(count).enumerate() {
        check_request(&format!("request {i}"), expected, r, problems);
    }
    if prefetched {
        let mut next = expected.clone();
        let after = outcome.as_ref().map(|r| r["after"].clone()).unwrap_or(Value::Null);
        if let Some(q) = next.get_mut("query").and_then(Value::as_object_mut) {
            q.insert("after".into(), after);
        }
        check_request("the prefetch of the next page", &next, &requests[count], problems);
    }
}

fn check_request(what: &str, expected: &Value, got: &RecordedRequest, problems: &mut Vec<String>) {
    if let Some(m) = expected["method"].as_str() {
        if got.method != m {
            problems.push(format!("{what}: method {} instead of {m}", got.method));
        }
    } else {
        problems.push("request.method is missing".into());
    }
    if let Some(p) = expected["path"].as_str() {
        if got.path != p {
            problems.push(format!("{what}: path {} instead of {p}", got.path));
        }
    } else {
        problems.push("request.path is missing".into());
    }

    // Query: every key, no extra key, each once.
    let want_query: BTreeMap<String, String> = match expected.get("query") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(q)) => {
            q.iter().map(|(k, val)| (k.clone(), val.as_str().map_or_else(|| val.to_string(), str::to_owned))).collect()
        }
        Some(_) => {
            problems.push("request.query must be an object".into());
            BTreeMap::new()
        }
    };
    let mut got_query: BTreeMap<String, String> = BTreeMap::new();
    for (k, val) in &got.query {
        if got_query.insert(k.clone(), val.clone()).is_some() {
            problems.push(format!("{what}: query key {k:?} appears more than once"));
        }
    }
    if got_query != want_query {
        problems.push(format!("{what}: query {got_query:?} instead of {want_query:?}"));
    }

    // Body, compared as JSON.
    match expected.get("body") {
        None | Some(Value::Null) => {
            if !got.body.is_empty() {
                problems.push(format!("{what}: a body was sent where none was expected: {}", got.body));
            }
        }
        Some(want) => match serde_json::from_str::<Value>(&got.body) {
            Ok(body) if &body == want => {}
            Ok(body) => problems.push(format!("{what}: body {body} instead of {want}")),
            Err(e) => problems.push(format!("{what}: the body is not JSON ({e}): {:?}", got.body)),
        },
    }

    // Listed headers, names lowercase.
    if let Some(headers) = expected.get("headers").and_then(Value::as_object) {
        for (name, want) in headers {
            let want = want.as_str().unwrap_or_default();
            match got.headers.get(&name.to_ascii_lowercase()) {
                Some(val) if val == want => {}
                Some(val) => problems.push(format!("{what}: header {name} is {val:?} instead of {want:?}")),
                None => problems.push(format!("{what}: header {name} is missing")),
            }
        }
    }
}

// ------------------------------------------------------------------- results

fn check_outcome(v: &Value, op: &str, outcome: &Outcome, problems: &mut Vec<String>) {
    let expect = &v["expect"];
    match (expect.get("result"), expect.get("error"), outcome) {
        (Some(want), None, Ok(got)) => check_result(op, want, got, problems),
        (Some(want), None, Err(e)) => problems.push(format!("expected the result {want}, got the error {e:?}")),
        (None, Some(want), Err(e)) => check_error(want, e, problems),
        (None, Some(want), Ok(got)) => problems.push(format!("expected the error {want}, got the result {got}")),
        _ => problems.push("expect must hold exactly one of result or error".into()),
    }
}

fn instant(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

fn same_time(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Null, Value::Null) => true,
        _ => instant(want).is_some() && instant(want) == instant(got),
    }
}

fn check_result(op: &str, want: &Value, got: &Value, problems: &mut Vec<String>) {
    match op {
        "thread_owner" => {
            let ok = match (want, got) {
                (Value::Null, Value::Null) => true,
                (Value::Object(w), Value::Object(_)) => {
                    w.keys().all(|k| k == "app_id" || k == "expiration")
                        && w.get("app_id") == got.get("app_id")
                        && same_time(w.get("expiration").unwrap_or(&Value::Null), &got["expiration"])
                }
                _ => false,
            };
            if !ok {
                problems.push(format!("result {got} instead of {want}"));
            }
        }
        "conversations_page" => check_page(want, got, problems),
        _ => {
            if want != got {
                problems.push(format!("result {got} instead of {want}"));
            }
        }
    }
}

fn check_page(want: &Value, got: &Value, problems: &mut Vec<String>) {
    let Some(w) = want.as_object() else {
        problems.push("expect.result of conversations_page must be an object".into());
        return;
    };
    for key in w.keys() {
        if !["items", "after", "has_next"].contains(&key.as_str()) {
            problems.push(format!("expect.result has an unknown key {key:?}"));
        }
    }
    for key in ["after", "has_next"] {
        if let Some(wv) = w.get(key) {
            if wv != &got[key] {
                problems.push(format!("page {key} is {} instead of {wv}", got[key]));
            }
        }
    }
    let Some(want_items) = w.get("items").and_then(Value::as_array) else {
        problems.push("expect.result.items must be a list".into());
        return;
    };
    let got_items = got["items"].as_array().cloned().unwrap_or_default();
    if want_items.len() != got_items.len() {
        problems.push(format!("{} items instead of {}", got_items.len(), want_items.len()));
        return;
    }
    for (i, (wi, gi)) in want_items.iter().zip(&got_items).enumerate() {
        check_item(i, wi, gi, problems);
    }
}

fn check_item(i: usize, want: &Value, got: &Value, problems: &mut Vec<String>) {
    let Some(w) = want.as_object() else {
        problems.push(format!("expected item {i} is not an object"));
        return;
    };
    for (key, wv) in w {
        let gv = &got[key];
        match key.as_str() {
            "raw" => check_raw(i, wv, &got["raw"], problems),
            "updated_time" => {
                if !same_time(wv, gv) {
                    problems.push(format!("item {i}: updated_time {gv} instead of {wv}"));
                }
            }
            "participants" | "senders" => check_people(&format!("item {i}: {key}"), wv, gv, problems),
            // Every typed field of a conversation, and the folder it was listed from.
            k if DEFAULT_FIELDS.contains(&k) || k == "folder" => {
                if wv != gv {
                    problems.push(format!("item {i}: {key} is {gv} instead of {wv}"));
                }
            }
            other => problems.push(format!("item {i}: {other:?} is not a typed conversation field")),
        }
    }
}

/// Each expected person lists the keys it checks (`id`, `name`, `email`).
fn check_people(what: &str, want: &Value, got: &Value, problems: &mut Vec<String>) {
    let (Some(w), Some(g)) = (want.as_array(), got.as_array()) else {
        problems.push(format!("{what}: {got} instead of {want}"));
        return;
    };
    if w.len() != g.len() {
        problems.push(format!("{what}: {} people instead of {}", g.len(), w.len()));
        return;
    }
    for (j, (wp, gp)) in w.iter().zip(g).enumerate() {
        let Some(wp) = wp.as_object() else {
            problems.push(format!("{what}: expected person {j} is not an object"));
            continue;
        };
        for (k, wv) in wp {
            if &gp[k] != wv {
                problems.push(format!("{what}[{j}].{k} is {} instead of {wv}", gp[k]));
            }
        }
    }
}

/// `raw` keys are checked as a subset of the raw object.
fn check_raw(i: usize, want: &Value, got: &Value, problems: &mut Vec<String>) {
    let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
        problems.push(format!("item {i}: raw {got} instead of {want}"));
        return;
    };
    let g: &Map<String, Value> = g;
    for (k, wv) in w {
        match g.get(k) {
            Some(gv) if gv == wv => {}
            Some(gv) => problems.push(format!("item {i}: raw.{k} is {gv} instead of {wv}")),
            None => problems.push(format!("item {i}: raw has no key {k:?}")),
        }
    }
}

fn check_error(want: &Value, e: &Error, problems: &mut Vec<String>) {
    let Some(w) = want.as_object() else {
        problems.push("expect.error must be an object".into());
        return;
    };
    let shown = format!("{e} / {e:?}");
    if shown.contains(TOKEN) {
        problems.push("the error's Display or Debug shows the token".into());
    }
    if !w.contains_key("kind") {
        problems.push("expect.error.kind is missing".into());
    }
    let graph = e.graph();
    let mismatch = |field: &str, got: Value, wv: &Value| format!("error {field} is {got} instead of {wv} ({e})");
    for (field, wv) in w {
        let got: Value = match field.as_str() {
            "kind" => json!(e.kind().as_str()),
            "code" => json!(graph.map(|g| g.code)),
            "subcode" => json!(graph.and_then(|g| g.subcode)),
            "error_type" => json!(graph.and_then(|g| g.error_type.clone())),
            "http_status" => json!(e.http_status()),
            "fbtrace_id" => json!(graph.and_then(|g| g.fbtrace_id.clone())),
            "is_transient" => json!(graph.map(|g| g.is_transient)),
            "retry_after" => {
                let got = graph.and_then(|g| g.retry_after).map(|d| d.as_secs_f64());
                let same = match (wv.as_f64(), got) {
                    (Some(w), Some(g)) => (w - g).abs() < 1e-6,
                    (None, None) => wv.is_null(),
                    _ => false,
                };
                if !same {
                    problems.push(mismatch("retry_after", json!(got), wv));
                }
                continue;
            }
            "message_contains" => {
                let needle = wv.as_str().unwrap_or_default();
                if !e.to_string().contains(needle) {
                    problems.push(format!("error message {:?} does not contain {needle:?}", e.to_string()));
                }
                continue;
            }
            "argument" => match e {
                Error::InvalidInput { argument, .. } => json!(argument),
                _ => Value::Null,
            },
            other => {
                problems
                    .push(format!("expect.error has an unknown field {other:?} (known: {})", ERROR_FIELDS.join(", ")));
                continue;
            }
        };
        if &got != wv {
            problems.push(mismatch(field, got, wv));
        }
    }
}

// ------------------------------------------- tests/conformance/invalid_input.json

/// A vector value: `{repeat, times}` stands for a long string.
fn input_value(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.contains_key("repeat") => {
            let times = o["times"].as_u64().unwrap_or(0) as usize;
            Value::String(o["repeat"].as_str().unwrap_or("").repeat(times))
        }
        Value::Array(items) => Value::Array(items.iter().map(input_value).collect()),
        other => other.clone(),
    }
}

/// Runs one vector; `None` when Rust's types cannot express it (a `type` problem).
async fn refused_input(vector: &Value) -> Option<Error> {
    let argument = vector["argument"].as_str().unwrap_or_default();
    let value = input_value(&vector["value"]);
    let num = || value.as_f64().unwrap_or(f64::NAN);
    // Integers wider than i64 arrive as floats: saturate like the bindings do.
    let int = || value.as_i64().unwrap_or(if num() < 0.0 { i64::MIN } else { i64::MAX });
    let text = || value.as_str().map(str::to_owned);
    let call = vector["call"].as_str().unwrap_or_default();
    if call == "client" {
        let mut b = Client::builder(if argument == "access_token" { text()? } else { TOKEN.to_owned() })
            .base_url("http://127.0.0.1:9");
        b = match argument {
            "access_token" => b,
            "page_id" => b.page_id(text()?),
            "api_version" => b.api_version(text()?),
            "base_url" => b.base_url(text()?),
            "timeout" => b.timeout_secs(value.as_f64()?),
            "max_retry_wait" => b.max_retry_wait_secs(value.as_f64()?),
            "retry_base_delay" => b.retry_base_delay_secs(value.as_f64()?),
            "max_retries" => b.max_retries(value.is_number().then(int)?),
            "max_response_bytes" => b.max_response_bytes(value.is_number().then(int)?),
            other => panic!("invalid_input.json: unknown client argument {other}"),
        };
        return b.build().err();
    }
    let client = Client::builder(TOKEN).base_url("http://127.0.0.1:9").max_retries(0).build().ok()?;
    let (psid, app, duration) = ("1234567890".to_owned(), "263902037430900".to_owned(), 60.0);
    let pick = |name: &str, default: String| if argument == name { text() } else { Some(default) };
    let metadata = if argument == "metadata" { Some(text()?) } else { None };
    let result = match call {
        "thread_owner" => client.thread_owner(&pick("psid", psid)?).await.map(|_| ()),
        "take_thread_control" => client.take_thread_control(&pick("psid", psid)?, metadata.as_deref()).await,
        "pass_thread_control" => {
            client.pass_thread_control(&pick("psid", psid)?, &pick("target_app_id", app)?, metadata.as_deref()).await
        }
        "pass_thread_control_to_page_inbox" => {
            client.pass_thread_control_to_page_inbox(&pick("psid", psid)?, metadata.as_deref()).await
        }
        "extend_thread_control" => {
            // The conversion every binding makes from its numbers.
            let secs = if argument == "duration" { value.as_f64()? } else { duration };
            match messenger_handover::validate::duration_secs(secs) {
                Ok(d) => client.extend_thread_control(&pick("psid", psid)?, d).await,
                Err(e) => Err(e),
            }
        }
        "conversations" => {
            let mut q = ConversationsQuery::new();
            let list =
                || value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect::<Vec<_>>());
            let parsed = match argument {
                "folder" => text()?.parse::<Folder>().map(|f| q.clone().folder(f)),
                "platform" => text()?.parse::<Platform>().map(|p| q.clone().platform(p)),
                "page_size" => Ok(q.clone().page_size(value.is_number().then(int)?)),
                "user_id" => Ok(q.clone().user_id(text()?)),
                "fields" => Ok(q.clone().fields(list()?)),
                "tags" => Ok(q.clone().tags(list()?)),
                "after" => Ok(q.clone().after(text()?)),
                other => panic!("invalid_input.json: unknown conversations argument {other}"),
            };
            match parsed {
                Ok(query) => {
                    q = query;
                    client.conversations(q).map(|_| ())
                }
                Err(e) => Err(e),
            }
        }
        other => panic!("invalid_input.json: unknown call {other}"),
    };
    result.err()
}

#[tokio::test]
async fn invalid_input_vectors() {
    let path = vector_dir().join("invalid_input.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 40, "only {} invalid-input vectors", vectors.len());
    let mut problems = Vec::new();
    let mut ran = 0;
    for (i, v) in vectors.iter().enumerate() {
        let what = format!("#{i} {} {}={}", v["call"], v["argument"], v["value"]).chars().take(120).collect::<String>();
        if v["problem"] == "type" {
            continue; // Rust's types rule these out at compile time.
        }
        ran += 1;
        let Some(err) = refused_input(v).await else {
            problems.push(format!("{what}: accepted"));
            continue;
        };
        let Some((argument, problem)) = err.input_problem() else {
            problems.push(format!("{what}: {err} is not InvalidInput"));
            continue;
        };
        if argument != v["argument"] || problem.as_str() != v["problem"] {
            problems.push(format!("{what}: refused as {argument}/{} ({err})", problem.as_str()));
        }
        let message = err.to_string();
        if let Some(fragment) = v["message"].as_str() {
            if !message.contains(fragment) {
                problems.push(format!("{what}: {message:?} lacks {fragment:?}"));
            }
        }
        if v["not_echoed"] == true && message.contains(v["value"].as_str().unwrap_or("\u{0}")) {
            problems.push(format!("{what}: the value is echoed in {message:?}"));
        }
    }
    assert!(ran >= 40, "only {ran} vectors ran");
    assert!(problems.is_empty(), "{} invalid-input vectors failed:\n{}", problems.len(), problems.join("\n"));
}
