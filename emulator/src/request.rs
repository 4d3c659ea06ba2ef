//! What a Graph request is (`GraphRequest`: method, path, query, token,
//! parameters) and how one is answered (`answer`: auth, usage, routing,
//! dispatch under the state lock). The HTTP pipeline (`handler`) and the
//! batch endpoint (`batch`) both use it, so it stands apart from either.

use crate::error::GraphError;
use crate::graph::{self, Call, Outcome};
use crate::ratelimit::Usage;
use crate::state::{Inner, LoggedRequest, Shared};
use crate::webhooks;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::http::request::Parts;
use serde_json::{Map, Value};
use sha2::Sha256;
use std::collections::BTreeMap;

/// What we know about a Graph request (or one batch operation) before answering it.
pub(crate) struct GraphRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub token: Option<String>,
    pub params: Result<Map<String, Value>, GraphError>,
}

/// One answered Graph call.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    pub deliveries: Vec<webhooks::Delivery>,
    pub error_code: Option<i64>,
    pub usage: Usage,
    pub trace: String,
}

impl Answer {
    /// The usage headers and the trace id, as every Graph response carries them.
    pub fn headers(&self, page_id: &str) -> Vec<(&'static str, String)> {
        let mut headers = self.usage.headers(page_id);
        headers.push(("x-fb-trace-id", self.trace.clone()));
        headers
    }
}

/// Authenticates, counts, routes and dispatches one call under the state lock.
pub(crate) fn answer(shared: &Shared, inner: &mut Inner, req: &GraphRequest) -> Answer {
    let mut usage = inner.limiter.peek();
    let result = (|| -> Result<Outcome, GraphError> {
        let token = req.token.as_deref().ok_or_else(GraphError::invalid_token)?;
        let role = shared.apps.role_for_token(token).ok_or_else(GraphError::invalid_token)?;
        if let Some((_, proof)) = req.query.iter().find(|(k, _)| k == "appsecret_proof") {
            if *proof != appsecret_proof(&shared.apps.get(role).secret, token) {
                return Err(GraphError::bad_proof());
            }
        }
        usage = inner.limiter.record_call();
        if let Some(code) = usage.blocked_code {
            return Err(GraphError::rate_limited(code));
        }
        let params = req.params.clone()?;
        let (version, node, edge) = route(&req.path)?;
        let query: Vec<(String, String)> =
            req.query.iter().filter(|(k, _)| k != "access_token" && k != "appsecret_proof").cloned().collect();
        let call = Call {
            role,
            method: &req.method,
            version,
            page_segment: node,
            edge,
            query: &query,
            params: &params,
            token,
        };
        graph::dispatch(shared, inner, &call)
    })();
    let trace = inner.next_trace();
    match result {
        Ok(out) => Answer { status: 200, body: out.body, deliveries: out.deliveries, error_code: None, usage, trace },
        Err(e) => {
            let body = e.body(&trace);
            Answer { status: e.status, body, deliveries: Vec::new(), error_code: Some(e.code), usage, trace }
        }
    }
}

/// Parses auth, query and body, and starts the log entry (without the token).
pub(crate) fn read_request(shared: &Shared, parts: &Parts, bytes: &Bytes) -> (GraphRequest, LoggedRequest) {
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> =
        parts.uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let header_token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("OAuth ")))
        .map(|t| t.trim().to_string());
    let query_token = query.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.clone());
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let mut params = if method == "GET" { Ok(Map::new()) } else { parse_params(&content_type, bytes) };
    let body_token = match &mut params {
        Ok(p) => p.remove("access_token").and_then(|v| v.as_str().map(str::to_string)),
        Err(_) => None,
    };
    let (token, auth) = match (header_token, query_token, body_token) {
        (Some(t), _, _) => (Some(t), Some("header")),
        (None, Some(t), _) => (Some(t), Some("query")),
        (None, None, Some(t)) => (Some(t), Some("body")),
        _ => (None, None),
    };
    let log_query: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| {
            let v = if k == "access_token" { "<redacted>".to_string() } else { v.clone() };
            (k.clone(), v)
        })
        .collect();
    let log_body = match &params {
        Ok(p) if p.is_empty() => None,
        Ok(p) => Some(Value::Object(p.clone())),
        Err(_) => Some(Value::String(String::from_utf8_lossy(bytes).into_owned())),
    };
    if let (Ok(p), false) = (&mut params, method == "GET") {
        // Graph also takes POST parameters from the query string.
        for (k, v) in &query {
            if k != "access_token" && k != "appsecret_proof" && !p.contains_key(k) {
                p.insert(k.clone(), form_value(k, v));
            }
        }
    }
    let entry = LoggedRequest {
        seq: 0,
        method: method.clone(),
        path: path.clone(),
        query: log_query,
        token_in_query: auth == Some("query"),
        auth,
        body: log_body,
        app: token.as_deref().and_then(|t| shared.apps.role_for_token(t)),
        status: 0,
        error_code: None,
        fault: None,
        batch_index: None,
    };
    let req = GraphRequest { method, path, query, token, params };
    (req, entry)
}

/// JSON bodies, or form bodies whose `recipient` is itself JSON (the real API takes both).
pub(crate) fn parse_params(content_type: &str, bytes: &Bytes) -> Result<Map<String, Value>, GraphError> {
    let invalid = || GraphError::param("(#100) Invalid JSON");
    let text = std::str::from_utf8(bytes).map_err(|_| invalid())?;
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let is_form = content_type.contains("x-www-form-urlencoded")
        || (!content_type.contains("json") && !text.trim_start().starts_with(['{', '[']));
    if is_form {
        return Ok(url::form_urlencoded::parse(bytes)
            .map(|(k, v)| {
                let val = form_value(&k, &v);
                (k.into_owned(), val)
            })
            .collect());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(invalid()),
    }
}

/// A form value: JSON objects (e.g. `recipient={"id":"1"}`) are decoded, the rest stay strings.
pub(crate) fn form_value(_key: &str, v: &str) -> Value {
    if v.trim_start().starts_with('{') {
        if let Ok(j) = serde_json::from_str::<Value>(v) {
            return j;
        }
    }
    Value::String(v.to_string())
}

/// `/{version}/{node}[/{edge}]`; which nodes exist is for `graph::dispatch` to say.
fn route(path: &str) -> Result<(&str, &str, Option<&str>), GraphError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let version = segs.first().copied().unwrap_or("");
    if !valid_version(version) {
        return Err(GraphError::unknown_path(path));
    }
    let Some(page) = segs.get(1).copied().filter(|s| !s.is_empty()) else {
        return Err(GraphError::unknown_path(path));
    };
    if segs.len() > 3 {
        return Err(GraphError::unknown_path(&format!("/{}", segs[3..].join("/"))));
    }
    Ok((version, page, segs.get(2).copied()))
}

/// `v` + digits + `.` + digits.
pub(crate) fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let mut it = rest.splitn(2, '.');
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!((it.next(), it.next()), (Some(a), Some(b)) if all_digits(a) && all_digits(b))
}

pub fn appsecret_proof(secret: &str, token: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(token.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The HTTP status Graph uses for an error code: 500 for 1/2, 403 for 10/200-299, else 400.
pub(crate) fn graph_error_status(code: Option<i64>) -> u16 {
    match code {
        Some(1 | 2) => 500,
        Some(10 | 200..=299) => 403,
        _ => 400,
    }
}
