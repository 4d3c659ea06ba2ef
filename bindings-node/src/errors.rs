//! Core errors to JavaScript: every failure crosses as one `Error` whose
//! message is a tagged JSON payload; `errors.js` turns it into the right
//! class (`AuthError`, `TypeError`, `AbortError`, ...).

use messenger_handover::{Error, TransportFailure};
use napi::Status;
use serde_json::{json, Value};

use crate::convert::UsageInfo;

/// Marks a message as a payload for `errors.js`, never shown to users.
pub const PAYLOAD_PREFIX: &str = "\u{1}mh-error:";

fn payload(value: Value) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{PAYLOAD_PREFIX}{value}"))
}

/// A core error, with every field the JS classes expose.
pub fn from_core(err: Error) -> napi::Error {
    let value = match &err {
        // Same answer as a call on the closed client itself.
        Error::Transport { failure: TransportFailure::Closed, .. } => return state("the client is closed"),
        Error::Graph(g) => json!({
            "kind": g.kind.as_str(),
            "message": g.to_string(),
            "graphMessage": g.message,
            "code": g.code,
            "subcode": g.subcode,
            "type": g.error_type,
            "fbtraceId": g.fbtrace_id,
            "httpStatus": g.http_status,
            "isTransient": g.is_transient,
            "userTitle": g.user_title,
            "userMessage": g.user_message,
            "retryAfter": g.retry_after.map(|d| d.as_secs_f64()),
            "usage": g.usage.as_ref().map(|u| serde_json::to_value(UsageInfo::from(u)).unwrap_or(Value::Null)),
        }),
        Error::Transport { failure, message } => json!({
            "kind": "transport",
            "message": message,
            "timeout": matches!(failure, TransportFailure::Timeout),
            "connect": matches!(failure, TransportFailure::Connect),
        }),
        Error::Protocol { message, http_status } => json!({
            "kind": "protocol",
            "message": message,
            "httpStatus": http_status,
        }),
        Error::InvalidInput { argument, message } => json!({
            "kind": "invalid_input",
            "argument": argument,
            "message": message,
        }),
    };
    payload(value)
}

/// The call was cancelled through its abort signal.
pub fn aborted() -> napi::Error {
    payload(json!({ "kind": "aborted", "message": "The operation was aborted" }))
}

/// An argument refused by the binding itself (a malformed option object).
pub fn invalid(argument: &str, message: impl std::fmt::Display) -> napi::Error {
    payload(json!({ "kind": "invalid_input", "argument": argument, "message": message.to_string() }))
}

/// Misuse of an object: closed client, stopped emulator, concurrent reads.
pub fn state(message: impl std::fmt::Display) -> napi::Error {
    payload(json!({ "kind": "state", "message": message.to_string() }))
}

/// A failure of the test servers (binding a port, ...).
pub fn io(err: std::io::Error) -> napi::Error {
    payload(json!({ "kind": "io", "message": err.to_string() }))
}
