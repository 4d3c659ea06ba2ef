//! Graph batch requests: `POST /` (or `/{version}/`) with `batch=[{"method","relative_url","body"}]`.
//!
//! Follows <https://developers.facebook.com/docs/graph-api/batch-requests>: at most 50
//! operations; each counted separately against the rate limits; the answer is an array
//! in request order of `{"code", "headers", "body"}` with `body` a JSON-encoded string,
//! `headers` dropped by `include_headers=false`, and `null` for an operation that did not
//! complete.

use crate::error::GraphError;
use crate::faults::FaultAction;
use crate::request::{answer, form_value, parse_params, valid_version, Answer, GraphRequest};
use crate::state::{LoggedRequest, Shared};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Graph's documented limit on operations per batch request.
pub const MAX_OPERATIONS: usize = 50;
/// The version an operation without one in its `relative_url` runs under.
const DEFAULT_VERSION: &str = "v26.0";

/// `POST /`, `POST /{version}` and `POST /{version}/` carry batches.
pub fn is_batch_path(method: &str, path: &str) -> bool {
    if method != "POST" {
        return false;
    }
    let trimmed = path.trim_matches('/');
    trimmed.is_empty() || valid_version(trimmed)
}

/// What the batch's own log entry keeps: no operation bodies (they may hold a token).
pub fn log_summary(params: &Map<String, Value>) -> Value {
    let size = operations(params).map(|ops| ops.len()).ok();
    json!({"batch_size": size, "include_headers": include_headers(params)})
}

fn include_headers(params: &Map<String, Value>) -> bool {
    match params.get("include_headers") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    }
}

/// The `batch` parameter: a JSON array, form-encoded as a string or inline in a JSON body.
fn operations(params: &Map<String, Value>) -> Result<Vec<Value>, GraphError> {
    let ops = match params.get("batch") {
        None => return Err(GraphError::param("(#100) The parameter batch is required")),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            _ => return Err(GraphError::param("(#100) param batch must be a JSON encoded array")),
        },
        Some(_) => return Err(GraphError::param("(#100) param batch must be a JSON encoded array")),
    };
    if ops.is_empty() {
        return Err(GraphError::param("(#100) param batch must be a non-empty array"));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(GraphError::batch_too_large());
    }
    Ok(ops)
}

/// Answers a whole batch: every operation is authenticated, faulted, rate-limited,
/// dispatched and logged as if it had come alone.
pub async fn handle(shared: &Shared, outer: &GraphRequest) -> Answer {
    let prepared = outer.params.clone().and_then(|p| {
        let token = outer.token.as_deref().ok_or_else(GraphError::invalid_token)?;
        shared.apps.role_for_token(token).ok_or_else(GraphError::invalid_token)?;
        Ok((operations(&p)?, include_headers(&p)))
    });
    let (ops, with_headers) = match prepared {
        Ok(v) => v,
        Err(e) => {
            let mut inner = shared.lock();
            let trace = inner.next_trace();
            let usage = inner.limiter.peek();
            return Answer {
                status: e.status,
                body: e.body(&trace),
                deliveries: Vec::new(),
                error_code: Some(e.code),
                usage,
                trace,
            };
        }
    };
    let mut results = Vec::with_capacity(ops.len());
    let mut deliveries = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let (result, mut more) = operation(shared, outer, index, op, with_headers).await;
        results.push(result);
        deliveries.append(&mut more);
    }
    let mut inner = shared.lock();
    let trace = inner.next_trace();
    let usage = inner.limiter.peek();
    Answer { status: 200, body: Value::Array(results), deliveries, error_code: None, usage, trace }
}

/// One operation: its slot in the answer, and the webhooks it caused.
async fn operation(
    shared: &Shared,
    outer: &GraphRequest,
    index: usize,
    op: &Value,
    with_headers: bool,
) -> (Value, Vec<crate::webhooks::Delivery>) {
    let (req, mut entry) = read_operation(shared, outer, index, op);
    let fault = shared.lock().faults.take(&req.method, &req.path, Some(index));
    entry.fault = fault.as_ref().map(|f| f.name().to_string());
    let log = |entry: LoggedRequest| {
        if shared.config.log_requests {
            shared.lock().push_log(entry);
        }
    };
    let canned = |status: u16, body: String, headers: &BTreeMap<String, String>| {
        let mut item = json!({"code": status, "body": body});
        if with_headers {
            let list: Vec<Value> = headers.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            item["headers"] = json!(list);
        }
        item
    };
    match fault {
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultAction::NullItem { applied }) => {
            if applied {
                let mut inner = shared.lock();
                let ans = answer(shared, &mut inner, &req);
                entry.error_code = ans.error_code;
                drop(inner);
                log(entry);
                return (Value::Null, ans.deliveries);
            }
            log(entry);
            return (Value::Null, Vec::new());
        }
        // Inside a batch a broken connection cannot be told apart per operation:
        // the operation did not complete.
        Some(FaultAction::Reset | FaultAction::ResetMidBody { .. }) => {
            log(entry);
            return (Value::Null, Vec::new());
        }
        Some(FaultAction::Status { status, body, headers }) => {
            entry.status = status;
            log(entry);
            return (canned(status, body, &headers), Vec::new());
        }
        Some(FaultAction::Malformed { status, body, .. }) => {
            entry.status = status;
            log(entry);
            return (canned(status, body, &BTreeMap::new()), Vec::new());
        }
        Some(FaultAction::GraphError { status, error, headers }) => {
            let code = error.get("code").and_then(Value::as_i64);
            let status = status.unwrap_or(crate::request::graph_error_status(code));
            entry.status = status;
            entry.error_code = code;
            log(entry);
            return (canned(status, json!({ "error": error }).to_string(), &headers), Vec::new());
        }
        None => {}
    }
    let mut inner = shared.lock();
    let ans = answer(shared, &mut inner, &req);
    entry.status = ans.status;
    entry.error_code = ans.error_code;
    if shared.config.log_requests {
        inner.push_log(entry);
    }
    drop(inner);
    let mut item = json!({"code": ans.status, "body": ans.body.to_string()});
    if with_headers {
        let mut list = vec![json!({"name": "Content-Type", "value": "text/javascript; charset=UTF-8"})];
        list.extend(ans.headers(&shared.page_id).into_iter().map(|(k, v)| json!({"name": k, "value": v})));
        item["headers"] = json!(list);
    }
    (item, ans.deliveries)
}

/// An operation as a request of its own: path under a version, its query, its
/// form (or JSON) body, its own `access_token` or else the batch's.
fn read_operation(shared: &Shared, outer: &GraphRequest, index: usize, op: &Value) -> (GraphRequest, LoggedRequest) {
    let method = op.get("method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
    let relative = op.get("relative_url").and_then(Value::as_str).unwrap_or("");
    let (raw_path, raw_query) = relative.split_once('?').unwrap_or((relative, ""));
    let raw_path = raw_path.trim_start_matches('/');
    let outer_version = outer.path.trim_matches('/');
    let first = raw_path.split('/').next().unwrap_or("");
    let path = if valid_version(first) {
        format!("/{raw_path}")
    } else if valid_version(outer_version) {
        format!("/{outer_version}/{raw_path}")
    } else {
        format!("/{DEFAULT_VERSION}/{raw_path}")
    };
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let mut params = match op.get("body") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(Value::String(s)) => parse_params("", &bytes::Bytes::copy_from_slice(s.as_bytes())),
        Some(_) => Err(GraphError::param("(#100) Invalid batch body")),
    };
    if relative.is_empty() {
        params = Err(GraphError::param("(#100) relative_url is required for each batch operation"));
    }
    let body_token = match &mut params {
        Ok(p) => p.remove("access_token").and_then(|v| v.as_str().map(str::to_string)),
        Err(_) => None,
    };
    let query_token = query.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.clone());
    let (token, auth) = match (query_token, body_token) {
        (Some(t), _) => (Some(t), "query"),
        (None, Some(t)) => (Some(t), "body"),
        (None, None) => (outer.token.clone(), "batch"),
    };
    if let Ok(p) = &mut params {
        // As for a plain POST, parameters may also come in the query string.
        for (k, v) in &query {
            if method != "GET" && k != "access_token" && k != "appsecret_proof" && !p.contains_key(k) {
                p.insert(k.clone(), form_value(k, v));
            }
        }
    }
    let log_query = query
        .iter()
        .map(|(k, v)| (k.clone(), if k == "access_token" { "<redacted>".to_string() } else { v.clone() }))
        .collect();
    let entry = LoggedRequest {
        seq: 0,
        method: method.clone(),
        path: path.clone(),
        query: log_query,
        token_in_query: auth == "query",
        auth: Some(auth),
        body: match &params {
            Ok(p) if p.is_empty() => None,
            Ok(p) => Some(Value::Object(p.clone())),
            Err(_) => None,
        },
        app: token.as_deref().and_then(|t| shared.apps.role_for_token(t)),
        status: 0,
        error_code: None,
        fault: None,
        batch_index: Some(index),
    };
    (GraphRequest { method, path, query, token, params }, entry)
}
