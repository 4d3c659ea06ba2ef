//! Building a whole HTTP response: shared by the Graph pipeline (`handler`),
//! the admin API (`admin`) and the scripted server, which is why it sits in
//! a module of its own rather than in any of them.

use crate::server::{self, Body};
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::collections::BTreeMap;

/// A status a fault or a test may script: 100 to 999, what HTTP can carry.
/// Any other was sent as a 500 without a word.
pub(crate) fn check_status(status: u16) -> Result<u16, String> {
    match status {
        100..=999 => Ok(status),
        _ => Err(format!("status: must be 100-999, not {status}")),
    }
}

/// `respond` with the headers a fault or a test scripted.
pub(crate) fn respond_with(
    status: u16,
    content_type: &str,
    body: String,
    headers: &BTreeMap<String, String>,
) -> Response<Body> {
    let pairs: Vec<(&str, String)> = headers.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    respond(status, content_type, body, &pairs)
}

/// A complete response; header pairs that are not valid HTTP are skipped.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>, headers: &[(&str, String)]) -> Response<Body> {
    let mut resp = Response::new(server::full(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            h.insert(name, value);
        }
    }
    resp
}
