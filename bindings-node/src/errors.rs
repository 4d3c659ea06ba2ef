//! Core errors to JavaScript: every failure crosses as one `Error` whose
//! message is a tagged JSON payload; `errors.js` turns it into the right
//! class (`AuthError`, `TypeError`, `AbortError`, ...).

use messenger_handover::{Error, TransportFailure};
use napi::Status;
use serde_json::{json, Map, Value};

use crate::convert::UsageInfo;

/// Marks a message as a payload for `errors.js`, never shown to users.
pub const PAYLOAD_PREFIX: &str = "\u{1}mh-error:";

fn payload(value: Value) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{PAYLOAD_PREFIX}{value}"))
}

/// A core error: the class the core names and the attributes of its table
/// (camelCase), so `errors.js` knows no Graph field either.
pub fn from_core(err: Error) -> napi::Error {
    if let Error::Transport { failure: TransportFailure::Closed, .. } = &err {
        // Same answer as a call on the closed client itself.
        return state("the client is closed");
    }
    let mut value = Map::new();
    for (name, v) in err.attributes() {
        value.insert(camel(&name), v);
    }
    if let Error::Graph(g) = &err {
        // Node's usage object has its own camelCase shape (`UsageInfo`).
        if let Some(u) = &g.usage {
            value.insert("usage".into(), serde_json::to_value(UsageInfo::from(u)).unwrap_or(Value::Null));
        }
    }
    let message = match &err {
        Error::Graph(g) => g.to_string(),
        Error::Transport { message, .. } | Error::Protocol { message, .. } | Error::InvalidInput { message, .. } => {
            message.clone()
        }
    };
    value.insert("message".into(), Value::String(message));
    value.insert("class".into(), json!(err.class_name()));
    payload(Value::Object(value))
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// The call was cancelled through its abort signal.
pub fn aborted() -> napi::Error {
    payload(json!({ "kind": "aborted", "message": "The operation was aborted" }))
}

/// An argument refused by the binding itself (a malformed option object).
pub fn invalid(argument: &str, message: impl std::fmt::Display) -> napi::Error {
    payload(
        json!({ "kind": "invalid_input", "argument": argument, "message": message.to_string(), "problem": "value" }),
    )
}

/// Misuse of an object: closed client, stopped emulator, concurrent reads.
pub fn state(message: impl std::fmt::Display) -> napi::Error {
    payload(json!({ "kind": "state", "message": message.to_string() }))
}

/// A failure of the test servers (binding a port, ...).
pub fn io(err: std::io::Error) -> napi::Error {
    payload(json!({ "kind": "io", "message": err.to_string() }))
}
