//! `bench-server`: a minimal, fast, stateless Graph API server for `make bench`.
//!
//! It answers the three endpoints the benchmark calls, with bodies and headers
//! shaped like the real Graph API's (see bench/README.md):
//!   GET  /{ver}/{page}/thread_owner?recipient=PSID
//!   POST /{ver}/{page}/pass_thread_control   (JSON or form body)
//!   GET  /{ver}/{page}/conversations?fields=..&limit=..&after=CURSOR  (cursor paging;
//!        `messages.limit(N){id,created_time,from,to,message}` expanded like Graph does)
//!   POST /{ver}/  (or `/`) with the form `batch=[{"method","relative_url","body"}]`:
//!        Graph batch requests, up to 50 operations, each answered statelessly
//!        as `{"code","body"}` (body a JSON-encoded string), in order
//! No state, no request log, no locks: every client meets the same cheap server,
//! so the numbers measure the clients. The token is accepted as
//! `Authorization: Bearer` or as the `access_token` query parameter.
//! Prints one JSON line like `graph-emulator` does, then serves until killed.
//!
//! `--latency MS` holds every response back MS milliseconds: the round trip to
//! graph.facebook.com from a typical region is ~50 ms, and at that latency what
//! counts is how many requests a client keeps in flight, whether it prefetches
//! the next page and whether it reuses connections, not its per-call CPU.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const PAGE_ID: &str = "104729384756102";
const APPS: [(&str, &str, &str); 3] = [
    ("primary", "1111111111111", "EAAbenchPrimaryPageToken0000000000000000000000000000000000ZD"),
    ("secondary", "2222222222222", "EAAbenchSecondaryPageToken00000000000000000000000000000000ZD"),
    ("page_inbox", "263902037430900", "EAAbenchPageInboxPageToken00000000000000000000000000000000ZD"),
];
const FIELDS: [&str; 11] = [
    "id",
    "updated_time",
    "link",
    "snippet",
    "message_count",
    "unread_count",
    "participants",
    "senders",
    "can_reply",
    "is_subscribed",
    "scoped_thread_key",
];
const SNIPPETS: [&str; 8] = [
    "Hi! I ordered a jacket last week and it still hasn't shipped, can you check?",
    "Thanks, that fixed it \u{1f44d}",
    "Is the store on Main St open on Sunday?",
    "I'd like to talk to a human please",
    "Can I change the delivery address for order #48213?",
    "The promo code SPRING25 says it's expired but the ad says it runs until Friday",
    "ok",
    "Do you ship to Canada? And how long does it usually take?",
];

/// Every conversation, pre-rendered field by field (`"name":value` fragments).
static CONVS: OnceLock<Vec<[String; 11]>> = OnceLock::new();

fn render(i: usize, page: &str) -> [String; 11] {
    let id = format!("t_{}", 10_000_000_000_000_000u64 + i as u64 * 7919);
    let psid = 7_000_000_000_000_000u64 + i as u64;
    // Newest first, a few minutes apart.
    let t = graph_time(1_772_000_000u64 - (i as u64) * 173);
    let snippet = serde_json::to_string(SNIPPETS[i % SNIPPETS.len()]).unwrap_or_default();
    let who = format!(
        "{{\"data\":[{{\"name\":\"Customer {i}\",\"email\":\"{psid}@facebook.com\",\"id\":\"{psid}\"}},\
         {{\"name\":\"Acme Outdoor\",\"email\":\"{page}@facebook.com\",\"id\":\"{page}\"}}]}}"
    );
    let senders =
        format!("{{\"data\":[{{\"name\":\"Customer {i}\",\"email\":\"{psid}@facebook.com\",\"id\":\"{psid}\"}}]}}");
    [
        format!("\"id\":\"{id}\""),
        format!("\"updated_time\":\"{t}\""),
        format!("\"link\":\"/{page}/inbox/{}/?section=messages\"", 300_000_000 + i),
        format!("\"snippet\":{snippet}"),
        format!("\"message_count\":{}", 3 + i % 41),
        format!("\"unread_count\":{}", i % 3),
        format!("\"participants\":{who}"),
        format!("\"senders\":{senders}"),
        "\"can_reply\":true".to_string(),
        "\"is_subscribed\":true".to_string(),
        format!("\"scoped_thread_key\":\"{id}\""),
    ]
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Opaque-looking cursor that carries an item index.
fn cursor(i: usize) -> String {
    format!("QVFIUk{i:010}bXlBRkxTZAGZAJdTBGVjZAReVJUc2NhbWVfYmVuY2hfY3Vyc29y")
}
fn parse_cursor(c: &str) -> Option<usize> {
    c.strip_prefix("QVFIUk").and_then(|r| r.get(..10)).and_then(|d| d.parse().ok())
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value (the `fields` of a `next` URL).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

/// One top-level item of a `fields` value: `name`, or `name.limit(N){a,b}`.
struct FieldExpr<'a> {
    name: &'a str,
    limit: Option<usize>,
    sub: Vec<&'a str>,
}

/// Splits `fields` at the commas outside braces (Graph's field expansion,
/// https://developers.facebook.com/docs/graph-api/field-expansion), just enough
/// for what the bench asks; unknown names are skipped by the caller.
fn parse_fields(raw: &str) -> Vec<FieldExpr<'_>> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0usize);
    let bytes = raw.as_bytes();
    let mut items = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' | b'(' => depth += 1,
            b'}' | b')' => depth -= 1,
            b',' if depth == 0 => {
                items.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&raw[start..]);
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let name_end = item.find(['.', '{']).unwrap_or(item.len());
        let name = &item[..name_end];
        let limit =
            item.find(".limit(").and_then(|p| item[p + 7..].split(')').next()).and_then(|n| n.trim().parse().ok());
        let sub = match (item.find('{'), item.rfind('}')) {
            (Some(a), Some(b)) if b > a => item[a + 1..b].split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            _ => Vec::new(),
        };
        out.push(FieldExpr { name, limit, sub });
    }
    out
}

const MESSAGE_TEXTS: [&str; 6] = [
    "Hello! How can we help you today?",
    "Let me check that for you.",
    "Could you share your order number?",
    "It should arrive tomorrow.",
    "Is there anything else?",
    "Have a great day!",
];

/// Days and seconds to Graph's time format.
fn graph_time(secs: u64) -> String {
    let (d, r) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil(d as i64);
    format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}+0000", r / 3600, r % 3600 / 60, r % 60)
}

/// `"messages":{...}` of conversation `i`: its `limit` newest messages (newest
/// first, deterministic, like the emulator's), with `sub` fields (default id
/// and created_time), and a nested `paging` whose `next` carries the token as
/// Graph's does.
#[allow(clippy::too_many_arguments)]
fn render_messages(out: &mut String, i: usize, limit: usize, sub: &[&str], page: &str, token: &str, host: &str) {
    let total = 3 + i % 41;
    let end = limit.clamp(1, 100).min(total);
    let psid = 7_000_000_000_000_000u64 + i as u64;
    let conv_secs = 1_772_000_000u64 - (i as u64) * 173;
    let default_sub = ["id", "created_time"];
    let sub: &[&str] = if sub.is_empty() { &default_sub } else { sub };
    out.push_str("\"messages\":{\"data\":[");
    for newest in 0..end {
        if newest > 0 {
            out.push(',');
        }
        let ordinal = total - newest - 1;
        let from_user = ordinal.is_multiple_of(2);
        let user = format!("{{\"name\":\"Customer {i}\",\"email\":\"{psid}@facebook.com\",\"id\":\"{psid}\"}}");
        let shop = format!("{{\"name\":\"Acme Outdoor\",\"email\":\"{page}@facebook.com\",\"id\":\"{page}\"}}");
        let (from, to) = if from_user { (&user, &shop) } else { (&shop, &user) };
        out.push('{');
        let _ = write!(out, "\"id\":\"m_{:016x}{ordinal:04}\"", 0x5eed_u64 ^ (i as u64).wrapping_mul(0x9e37_79b9));
        for f in sub {
            match *f {
                "created_time" => {
                    let _ = write!(out, ",\"created_time\":\"{}\"", graph_time(conv_secs - newest as u64 * 420));
                }
                "from" => {
                    let _ = write!(out, ",\"from\":{from}");
                }
                "to" => {
                    let _ = write!(out, ",\"to\":{{\"data\":[{to}]}}");
                }
                "message" => {
                    let text = if from_user {
                        SNIPPETS[i % SNIPPETS.len()]
                    } else {
                        MESSAGE_TEXTS[ordinal % MESSAGE_TEXTS.len()]
                    };
                    let _ = write!(out, ",\"message\":{}", serde_json::to_string(text).unwrap_or_default());
                }
                _ => {}
            }
        }
        out.push('}');
    }
    let _ =
        write!(out, "],\"paging\":{{\"cursors\":{{\"before\":\"{}\",\"after\":\"{}\"}}", cursor(0), cursor(end - 1));
    if end < total {
        let id = 10_000_000_000_000_000u64 + i as u64 * 7919;
        let _ = write!(
            out,
            ",\"next\":\"http://{host}/v26.0/t_{id}/messages?access_token={token}&limit={limit}&after={}\"",
            cursor(end - 1)
        );
    }
    out.push_str("}}");
}

/// One operation of a batch, answered as its own request would be:
/// `{"code":200,"body":"<JSON text>"}`. Stateless, like the rest.
fn batch_item(op: &serde_json::Value) -> serde_json::Value {
    let method = op.get("method").and_then(|m| m.as_str()).unwrap_or("GET");
    let url = op.get("relative_url").and_then(|u| u.as_str()).unwrap_or("");
    let (path, q) = url.split_once('?').unwrap_or((url, ""));
    let edge = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let q = query(q);
    let has = |k: &str| q.iter().any(|(n, v)| n == k && !v.is_empty());
    let body_has = |k: &str| op.get("body").and_then(|b| b.as_str()).is_some_and(|b| b.contains(k));
    let (code, body) = match (method.to_ascii_uppercase().as_str(), edge) {
        ("GET", "thread_owner") if has("recipient") => {
            (200, "{\"data\":[{\"thread_owner\":{\"app_id\":\"1111111111111\"}}]}".to_string())
        }
        ("POST", "pass_thread_control") if body_has("target_app_id") && body_has("recipient") => {
            (200, "{\"success\":true}".to_string())
        }
        _ => (
            400,
            "{\"error\":{\"message\":\"(#100) Unsupported batch operation\",\"type\":\"OAuthException\",\"code\":100,\"fbtrace_id\":\"Bq3nVt9xK2a\"}}"
                .to_string(),
        ),
    };
    serde_json::json!({"code": code, "body": body})
}

/// `POST /` (or `/{ver}/`): the form's `batch` (a JSON array of at most 50
/// operations, https://developers.facebook.com/docs/graph-api/batch-requests),
/// answered in order.
fn batch(form: &[u8]) -> Response<Full<Bytes>> {
    let form = query(std::str::from_utf8(form).unwrap_or(""));
    let ops = form
        .iter()
        .find(|(k, _)| k == "batch")
        .and_then(|(_, v)| serde_json::from_str::<Vec<serde_json::Value>>(v).ok());
    match ops {
        None => graph_error(StatusCode::BAD_REQUEST, 100, "OAuthException", "(#100) The parameter batch is required"),
        Some(ops) if ops.is_empty() || ops.len() > 50 => graph_error(
            StatusCode::BAD_REQUEST,
            1,
            "GraphBatchException",
            "Too many requests in batch message. Maximum batch size is 50",
        ),
        Some(ops) => json(StatusCode::OK, serde_json::Value::Array(ops.iter().map(batch_item).collect()).to_string()),
    }
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"));
    h.insert("facebook-api-version", HeaderValue::from_static("v26.0"));
    h.insert("x-fb-trace-id", HeaderValue::from_static("Bq3nVt9xK2a"));
    h.insert("x-fb-request-id", HeaderValue::from_static("AbCdEfGhIjKlMnOpQrStUvW"));
    h.insert("x-app-usage", HeaderValue::from_static("{\"call_count\":1,\"total_cputime\":1,\"total_time\":1}"));
    h.insert("cache-control", HeaderValue::from_static("private, no-cache, no-store, must-revalidate"));
    r
}

fn graph_error(status: StatusCode, code: u32, kind: &str, msg: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"error": {
        "message": msg, "type": kind, "code": code, "fbtrace_id": "Bq3nVt9xK2a"}});
    json(status, body.to_string())
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let q = query(parts.uri.query().unwrap_or(""));
    let param = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let token = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("OAuth ")))
        .map(str::to_string)
        .or_else(|| param("access_token").map(str::to_string));
    let Some(token) = token.filter(|t| APPS.iter().any(|a| a.2 == t)) else {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            190,
            "OAuthException",
            "Invalid OAuth access token - Cannot parse access token",
        ));
    };
    let segs: Vec<&str> = parts.uri.path().split('/').filter(|s| !s.is_empty()).collect();
    if parts.method == Method::POST && matches!(segs.as_slice(), [] | [_]) && segs.iter().all(|v| v.starts_with('v')) {
        let b = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        return Ok(batch(&b));
    }
    let (page, edge) = match segs.as_slice() {
        [v, page, edge] if v.starts_with('v') => (*page, *edge),
        [page, edge] => (*page, *edge),
        _ => return Ok(graph_error(StatusCode::BAD_REQUEST, 100, "GraphMethodException", "Unsupported request")),
    };
    match (&parts.method, edge) {
        (&Method::GET, "thread_owner") => {
            if param("recipient").is_none_or(str::is_empty) {
                return Ok(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    "OAuthException",
                    "(#100) The parameter recipient is required",
                ));
            }
            Ok(json(StatusCode::OK, &b"{\"data\":[{\"thread_owner\":{\"app_id\":\"1111111111111\"}}]}"[..]))
        }
        (&Method::POST, "pass_thread_control") => {
            let b = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
            let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
            if !(has(b"target_app_id") || param("target_app_id").is_some())
                || !has(b"recipient") && param("recipient").is_none()
            {
                return Ok(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    "OAuthException",
                    "(#100) The parameter target_app_id is required",
                ));
            }
            Ok(json(StatusCode::OK, &b"{\"success\":true}"[..]))
        }
        (&Method::GET, "conversations") => {
            let convs = CONVS.get().map(Vec::as_slice).unwrap_or(&[]);
            let limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(25).clamp(1, 100);
            let start = match param("after") {
                Some(c) => match parse_cursor(c) {
                    Some(i) => i + 1,
                    None => {
                        return Ok(graph_error(StatusCode::BAD_REQUEST, 100, "OAuthException", "(#100) Invalid cursor"))
                    }
                },
                None => 0,
            };
            let fields_param = param("fields").unwrap_or("id,updated_time");
            let exprs = parse_fields(fields_param);
            // Per requested field: a pre-rendered one (index) or the messages expansion.
            let idx: Vec<Result<usize, &FieldExpr<'_>>> = exprs
                .iter()
                .filter_map(|f| match FIELDS.iter().position(|k| *k == f.name) {
                    Some(i) => Some(Ok(i)),
                    None if f.name == "messages" => Some(Err(f)),
                    None => None,
                })
                .collect();
            let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            let end = (start + limit).min(convs.len());
            let mut out = String::with_capacity(64 + (end.saturating_sub(start)) * 48 * idx.len().max(1));
            out.push_str("{\"data\":[");
            for (n, c) in convs.get(start..end).unwrap_or(&[]).iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push('{');
                for (k, f) in idx.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    match f {
                        Ok(f) => out.push_str(&c[*f]),
                        Err(m) => {
                            render_messages(&mut out, start + n, m.limit.unwrap_or(25), &m.sub, page, &token, host)
                        }
                    }
                }
                out.push('}');
            }
            out.push(']');
            if end > start {
                let _ = write!(
                    out,
                    ",\"paging\":{{\"cursors\":{{\"before\":\"{}\",\"after\":\"{}\"}}",
                    cursor(start),
                    cursor(end - 1)
                );
                if end < convs.len() {
                    let fields_enc: String = url_encode(fields_param);
                    let _ = write!(
                        out,
                        ",\"next\":\"http://{host}/v26.0/{page}/conversations?access_token={token}&fields={fields_enc}&limit={limit}&after={}\"",
                        cursor(end - 1)
                    );
                }
                out.push('}');
            }
            out.push('}');
            Ok(json(StatusCode::OK, out))
        }
        _ => Ok(graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "GraphMethodException",
            "Unsupported get request. Object does not exist or does not support this operation",
        )),
    }
}

fn main() {
    let mut port: u16 = 0;
    let mut n: usize = 20_000;
    let mut threads: usize = 2;
    let mut latency = Duration::ZERO;
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().cloned().unwrap_or_default();
        match k.as_str() {
            "--port" => port = v.parse().unwrap_or(0),
            "--conversations" => n = v.parse().unwrap_or(n),
            "--threads" => threads = v.parse().unwrap_or(threads).max(1),
            // "50" or "50ms"
            "--latency" => match v.trim_end_matches("ms").parse() {
                Ok(ms) => latency = Duration::from_millis(ms),
                Err(_) => {
                    eprintln!("bench-server: --latency takes milliseconds (50 or 50ms), not {v:?}");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!("usage: bench-server [--port N] [--conversations N] [--threads N] [--latency MS]");
                std::process::exit(2);
            }
        }
    }
    let _ = CONVS.set((0..n).map(|i| render(i, PAGE_ID)).collect());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let apps: serde_json::Map<String, serde_json::Value> = APPS
            .iter()
            .map(|(role, id, token)| {
                (
                    role.to_string(),
                    serde_json::json!({"app_id": id, "token": token, "secret": format!("benchsecret{id}")}),
                )
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"url": format!("http://{addr}"), "page_id": PAGE_ID, "apps": apps, "conversations": n,
                "latency_ms": latency.as_millis()})
        );
        let srv = Arc::new(http1::Builder::new());
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let srv = srv.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| async move {
                    // The request was read; the response goes out `latency` later,
                    // so every call (and every page) costs one simulated round trip.
                    if !latency.is_zero() {
                        tokio::time::sleep(latency).await;
                    }
                    handle(req).await
                });
                let _ = srv.serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
}
