//! `bench-server`: a minimal, fast, stateless Graph API server for `make bench`.
//!
//! It answers the three endpoints the benchmark calls, with bodies and headers
//! shaped like the real Graph API's (see bench/README.md):
//!   GET  /{ver}/{page}/thread_owner?recipient=PSID
//!   POST /{ver}/{page}/pass_thread_control   (JSON or form body)
//!   GET  /{ver}/{page}/conversations?fields=..&limit=..&after=CURSOR  (cursor paging)
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
    let secs = 1_772_000_000u64 - (i as u64) * 173;
    let (d, r) = (secs / 86_400, secs % 86_400);
    let (y, m, dd) = civil(d as i64);
    let t = format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}+0000", r / 3600, r % 3600 / 60, r % 60);
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

fn query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
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
            let idx: Vec<usize> =
                fields_param.split(',').filter_map(|f| FIELDS.iter().position(|k| *k == f.trim())).collect();
            let end = (start + limit).min(convs.len());
            let mut out = String::with_capacity(64 + (end.saturating_sub(start)) * 48 * idx.len().max(1));
            out.push_str("{\"data\":[");
            for (n, c) in convs.get(start..end).unwrap_or(&[]).iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push('{');
                for (k, &f) in idx.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&c[f]);
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
                    let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
                    let fields_enc = fields_param.replace(',', "%2C");
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
