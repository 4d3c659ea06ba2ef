//! Entry points for the fuzz targets in `core/fuzz`: every parser that reads
//! bytes from the network, reachable without a server. Not a public API.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::secret::Secret;

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
    let token = Secret::new("fuzz-token-value".to_owned());
    let _ = crate::transport::error_from(&token, status, "application/json", body, usage, retry_after);
    let _ = crate::client::parse_thread_owner(body);
    let _ = crate::paging::parse_page(body);
    let _ = crate::client::parse_json::<serde_json::Value>(body);
}

/// Feeds one webhook delivery through the signature check and the parser.
pub fn webhook(body: &[u8], header: Option<&str>) {
    let _ = crate::webhooks::verify_signature("fuzz-secret", body, header);
    let _ = crate::webhooks::parse_events(body);
}
