//! A tiny strict server for the shared conformance vectors: records requests, serves queued answers.

use crate::response::respond;
use crate::server::{self, Body, ServerHandle};

/// Generous: scripted tests send whole requests at once.
const SCRIPTED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One canned answer, served in FIFO order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScriptedResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// What a client sent: decoded query in order, lowercase header names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct Script {
    queue: VecDeque<ScriptedResponse>,
    seen: Vec<RecordedRequest>,
}

pub struct ScriptedServer {
    url: String,
    script: Arc<Mutex<Script>>,
    server: ServerHandle,
}

fn lock(m: &Mutex<Script>) -> MutexGuard<'_, Script> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ScriptedServer {
    /// Binds a free port on 127.0.0.1.
    pub async fn start() -> io::Result<ScriptedServer> {
        let listener = server::bind(0).await?;
        let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let script = Arc::new(Mutex::new(Script::default()));
        let s = script.clone();
        let server = server::spawn(listener, SCRIPTED_TIMEOUT, move |req, _conn| serve(s.clone(), req))?;
        Ok(ScriptedServer { url, script, server })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues `r`. Its status is an HTTP status, 100 to 999, or 0 for 200:
    /// any other was served as a 500 without a word.
    pub fn push_response(&self, r: ScriptedResponse) -> Result<(), String> {
        if r.status != 0 {
            crate::response::check_status(r.status)?;
        }
        lock(&self.script).queue.push_back(r);
        Ok(())
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.script).seen.clone()
    }

    /// Forgets queued responses and recorded requests.
    pub fn clear(&self) {
        let mut s = lock(&self.script);
        s.queue.clear();
        s.seen.clear();
    }

    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(script: Arc<Mutex<Script>>, req: Request<Incoming>) -> io::Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let bytes = server::read_body(body, 64 << 20, SCRIPTED_TIMEOUT).await?;
    let recorded = RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let next = {
        let mut s = lock(&script);
        s.seen.push(recorded);
        s.queue.pop_front()
    };
    let Some(r) = next else {
        let body = r#"{"error":{"message":"scripted server: no response queued","code":-1}}"#;
        return Ok(respond(599, "application/json", body, &[]));
    };
    let has_type = r.headers.keys().any(|k| k.eq_ignore_ascii_case("content-type"));
    let headers: Vec<(&str, String)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let status = if r.status == 0 { 200 } else { r.status };
    // A vector that names no content type gets JSON, unless it has no body at all.
    let empty = r.body.is_empty();
    let mut resp = respond(status, "application/json", r.body, &headers);
    if !has_type && empty {
        resp.headers_mut().remove(hyper::header::CONTENT_TYPE);
    }
    Ok(resp)
}
