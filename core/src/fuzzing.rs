//! Entry points for the fuzz targets in `core/fuzz`: every parser that reads
//! bytes from the network, reachable without a server. Not a public API.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::FutureExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::Transport;

/// A transport that never sends: it only holds the usage state the retry
/// loop reads. `max_retry_wait` 0 makes `wait_out_throttle` return at once
/// (ready, or the client-side throttle error) instead of sleeping.
fn offline_transport() -> Option<Transport> {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    let http = HTTP.get_or_init(reqwest::Client::new).clone();
    let url = url::Url::parse("http://127.0.0.1/v26.0/me/").ok()?;
    let retry = RetryPolicy {
        max_retries: 3,
        max_retry_wait: Duration::ZERO,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };
    Transport::new(http, url, Secret::new("fuzz-token-value".to_owned()), None, retry, 1 << 20, 100).ok()
}

/// One fuzz input as a Graph answer: the first two bytes pick the status; the
/// rest splits at the first NUL into a usage/`Retry-After` header value and
/// the body. Shared by the fuzz target and the corpus replay test.
pub fn graph_response_input(input: &[u8]) {
    if input.len() < 2 {
        return;
    }
    let status = 100 + u16::from_le_bytes([input[0], input[1]]) % 500;
    let rest = &input[2..];
    let (header, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let headers: [(&str, &[u8]); 4] = [
        ("x-app-usage", header),
        ("x-page-usage", header),
        ("x-business-use-case-usage", header),
        ("retry-after", header),
    ];
    graph_response(status, &headers, body);
}

/// One fuzz input as a webhook delivery, its first 71 bytes (the length of a
/// `sha256=<hex>` header) doubling as the signature header.
pub fn webhook_input(input: &[u8]) {
    let header = std::str::from_utf8(input.get(..71).unwrap_or(input)).ok();
    webhook(input, header);
}

/// Feeds one HTTP answer through everything that reads it.
pub fn graph_response(status: u16, headers: &[(&str, &[u8])], body: &[u8]) {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(*name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    let usage = crate::usage::Usage::from_headers(&map);
    if let Some(u) = &usage {
        let _ = (u.max_call_count(), u.regain_access_in());
    }
    let retry_after = crate::transport::retry_after(&map);
    // What the retry loop does with the answer: note the usage headers, then
    // decide whether to resend (GET and POST) and whether to wait first.
    if let Some(transport) = offline_transport() {
        if let Some(u) = &usage {
            transport.note_usage(u);
        }
        let _ = transport.wait_out_throttle().now_or_never();
        let _ = transport.last_usage();
    }
    let token = Secret::new("fuzz-token-value".to_owned());
    let err = crate::transport::error_from(&token, status, "application/json", body, usage, retry_after);
    let _ = (RetryPolicy::should_retry(&err, true), RetryPolicy::should_retry(&err, false));
    let _ = crate::client::parse_thread_owner(body);
    let _ = crate::paging::parse_page::<crate::model::Conversation>(body);
    let _ = crate::client::parse_json::<serde_json::Value>(body);
}

/// Feeds one webhook delivery through the signature check and the parser.
pub fn webhook(body: &[u8], header: Option<&str>) {
    let _ = crate::webhooks::verify_signature("fuzz-secret", body, header);
    let _ = crate::webhooks::parse_events(body);
}
