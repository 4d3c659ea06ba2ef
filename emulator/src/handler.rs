//! The request pipeline: admin routing, auth, faults, rate limit, dispatch, logging, headers.

use crate::admin;
use crate::batch;
use crate::faults::FaultAction;
use crate::request::{answer, graph_error_status, read_request};
use crate::response::{respond, respond_with};
use crate::server::{self, Body, ConnInfo};
use crate::state::{LoggedRequest, Shared};
use crate::webhooks;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

const BODY_CAP: usize = 1 << 20;
const JSON_TYPE: &str = "application/json; charset=UTF-8";

pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>, conn: Arc<ConnInfo>) -> io::Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let timeout = Duration::from_millis(shared.config.header_read_timeout_ms.max(1));
    let bytes = match server::read_body(body, BODY_CAP, timeout).await {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            return Ok(respond(408, "text/plain", "request body timed out", &[]))
        }
        Err(_) => return Ok(respond(413, "text/plain", "request body too large", &[])),
    };
    let path = parts.uri.path();
    if path == "/_emulator" || path.starts_with("/_emulator/") {
        return admin::handle(&shared, parts.method.as_str(), path, &bytes).await;
    }
    graph_request(&shared, &parts, &bytes, &conn).await
}

async fn graph_request(shared: &Shared, parts: &Parts, bytes: &Bytes, conn: &ConnInfo) -> io::Result<Response<Body>> {
    let (req, mut entry) = read_request(shared, parts, bytes);
    let is_batch = batch::is_batch_path(&req.method, &req.path);
    if is_batch {
        // The operations are logged one by one; the batch's own entry keeps
        // only its size (an operation may carry its own token).
        entry.body = req.params.as_ref().ok().map(batch::log_summary);
    }
    let fault = shared.lock().faults.take(&req.method, &req.path, None);
    entry.fault = fault.as_ref().map(|f| f.name().to_string());
    // A delayed request is logged on arrival (status 0), then completed in
    // place: a client that gives up during the delay still shows in the log.
    let mut logged_on_arrival = None;
    if let Some(fault) = fault {
        if let FaultAction::Delay { ms } = fault {
            if shared.config.log_requests {
                let mut inner = shared.lock();
                inner.push_log(entry.clone());
                logged_on_arrival = Some(inner.seq);
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
        } else {
            return faulted(shared, fault, entry, conn);
        }
    }

    let ans = if is_batch {
        batch::handle(shared, &req).await
    } else {
        let mut inner = shared.lock();
        answer(shared, &mut inner, &req)
    };
    let mut inner = shared.lock();
    entry.status = ans.status;
    entry.error_code = ans.error_code;
    match logged_on_arrival {
        Some(seq) => {
            // Gone if the log was cleared meanwhile.
            if let Some(logged) = inner.log.iter_mut().rev().find(|e| e.seq == seq) {
                logged.status = ans.status;
                logged.error_code = ans.error_code;
            }
        }
        None if shared.config.log_requests => inner.push_log(entry),
        None => {}
    }
    drop(inner);
    let headers = ans.headers(&shared.page_id);
    webhooks::spawn_all(shared, ans.deliveries);
    Ok(respond(ans.status, JSON_TYPE, ans.body.to_string(), &headers))
}

/// Answers a faulted request as the fault says, without touching state.
fn faulted(
    shared: &Shared,
    fault: FaultAction,
    mut entry: LoggedRequest,
    conn: &ConnInfo,
) -> io::Result<Response<Body>> {
    let log = |entry: LoggedRequest| {
        if shared.config.log_requests {
            shared.lock().push_log(entry);
        }
    };
    match fault {
        // A null item outside a batch never matches; a delay is handled by the caller.
        FaultAction::Delay { .. } | FaultAction::NullItem { .. } => Err(server::connection_reset()),
        FaultAction::Reset => {
            log(entry);
            conn.abort_with_rst();
            Err(server::connection_reset())
        }
        FaultAction::ResetMidBody { status } => {
            entry.status = status;
            log(entry);
            conn.abort_with_rst();
            let body = json!({"data": [{"thread_owner": {"app_id": crate::config::PRIMARY_APP_ID}}], "paging": {"cursors": {"before": "x", "after": "y"}}}).to_string();
            let half = Bytes::from(body.as_bytes()[..body.len() / 2].to_vec());
            let mut resp = Response::new(server::truncated(half));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let h = resp.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_TYPE));
            h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
            Ok(resp)
        }
        FaultAction::Status { status, body, headers } => {
            entry.status = status;
            log(entry);
            let ct = if body.trim_start().starts_with(['{', '[']) { JSON_TYPE } else { "text/html; charset=utf-8" };
            Ok(respond_with(status, ct, body, &headers))
        }
        FaultAction::GraphError { status, error, headers } => {
            let code = error.get("code").and_then(Value::as_i64);
            let status = status.unwrap_or(graph_error_status(code));
            entry.status = status;
            entry.error_code = code;
            log(entry);
            let body = json!({ "error": error }).to_string();
            Ok(respond_with(status, JSON_TYPE, body, &headers))
        }
        FaultAction::Malformed { status, body, content_type } => {
            entry.status = status;
            log(entry);
            let ct = content_type.unwrap_or_else(|| "application/json".to_string());
            Ok(respond_with(status, &ct, body, &BTreeMap::new()))
        }
    }
}
