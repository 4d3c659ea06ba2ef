//! Core errors to JavaScript: every failure crosses as one `Error` whose
//! message is a tagged JSON payload; `errors.js` turns it into the right
//! class (`AuthError`, `TypeError`, `AbortError`, ...).

//! Core errors to JavaScript, as data: every failure is a [`NativeError`]
//! (a typed object, in `native.d.ts`) carried by the JS `Error` it rejects or
//! throws with, under the own property `nativeError`; `errors.js` turns it
//! into the right class (`AuthError`, `TypeError`, `AbortError`, ...). The
//! message of that `Error` is plain text: nothing is parsed out of it.

use std::future::Future;

use messenger_handover::{Error, TransportFailure};
use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, JsValue, Status};
use napi_derive::napi;
use serde_json::{json, Map, Value};

use crate::usage::UsageInfo;

/// A failure, as `errors.js` receives it.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct NativeError {
    /// What failed: `core` (a class of the core's table, named by `class`),
    /// `invalid_input` (a bad argument), `aborted`, `state` (a closed client,
    /// a stopped server) or `io` (a test server could not start).
    #[napi(ts_type = "'core' | 'invalid_input' | 'aborted' | 'state' | 'io'")]
    pub tag: String,
    /// For `core`: the class, as `Error::class_name` names it.
    pub class: Option<String>,
    pub message: String,
    /// For `invalid_input`: the argument, in the core's snake_case.
    pub argument: Option<String>,
    /// For `invalid_input`: `type`, `value` or `range`.
    #[napi(ts_type = "'type' | 'value' | 'range'")]
    pub problem: Option<String>,
    /// For `core`: the class's attributes (camelCase), as the core's table names them.
    pub fields: Map<String, Value>,
}

/// What the native functions fail with until the failure reaches JavaScript
/// (boxed: results stay small on the happy path).
pub type Failure = Box<NativeError>;
pub type Result<T> = std::result::Result<T, Failure>;

fn plain(tag: &str, message: String) -> NativeError {
    NativeError { tag: tag.into(), class: None, message, argument: None, problem: None, fields: Map::new() }
}

/// The JS `Error` for `e`, with `e` as its `nativeError` property; as a
/// `napi::Error` that napi throws (or rejects with) as that very object.
pub fn throw(env: &Env, e: Failure) -> napi::Error {
    let built = env.create_error(napi::Error::new(Status::GenericFailure, e.message.clone())).and_then(|mut obj| {
        obj.set_named_property("nativeError", *e)?;
        Ok(napi::Error::from(obj.to_unknown()))
    });
    built.unwrap_or_else(|err| err)
}

/// Runs `fut` on the runtime as a Promise; a failure rejects with the JS
/// `Error` of [`throw`], built on the JavaScript thread.
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    // Under this environment's bridge: a worker's calls report to the worker.
    let fut = crate::observe::scoped(fut);
    env.spawn_future_with_callback(async move { Ok(fut.await) }, |env, r| r.map_err(|e| throw(env, e)))
}

/// A core error: the class the core names and the attributes of its table
/// (camelCase), so neither this crate nor `errors.js` knows a Graph field.
pub fn from_core(err: Error) -> Failure {
    if let Error::Transport { failure: TransportFailure::Closed, .. } = &err {
        // Same answer as a call on the closed client itself.
        return state("the client is closed");
    }
    let message = match &err {
        Error::Graph(g) => g.to_string(),
        Error::Transport { message, .. } | Error::Protocol { message, .. } | Error::InvalidInput { message, .. } => {
            message.clone()
        }
    };
    if let Some((argument, problem)) = err.input_problem() {
        return Box::new(NativeError {
            argument: Some(argument.into()),
            problem: Some(problem.as_str().into()),
            ..plain("invalid_input", message)
        });
    }
    let mut fields = Map::new();
    for (name, v) in err.attributes() {
        fields.insert(camel(&name), v);
    }
    if let Error::Graph(g) = &err {
        // Node's usage object has its own camelCase shape (`UsageInfo`).
        if let Some(u) = &g.usage {
            fields.insert("usage".into(), serde_json::to_value(UsageInfo::from(u)).unwrap_or(Value::Null));
        }
    }
    Box::new(NativeError { class: err.class_name().map(Into::into), fields, ..plain("core", message) })
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
pub fn aborted() -> Failure {
    Box::new(plain("aborted", "The operation was aborted".into()))
}

/// An argument refused by the binding itself (a malformed option object).
pub fn invalid(argument: &str, message: impl std::fmt::Display) -> Failure {
    Box::new(NativeError {
        argument: Some(argument.into()),
        problem: Some("value".into()),
        ..plain("invalid_input", message.to_string())
    })
}

/// An argument out of its range, refused by the binding's own servers (the emulator's config).
pub fn out_of_range(argument: &str, message: impl std::fmt::Display) -> Failure {
    Box::new(NativeError { problem: Some("range".into()), ..*invalid(argument, message) })
}

/// Misuse of an object: closed client, stopped emulator, concurrent reads.
pub fn state(message: impl std::fmt::Display) -> Failure {
    Box::new(plain("state", message.to_string()))
}

/// A failure of the test servers (binding a port, ...).
pub fn io(err: std::io::Error) -> Failure {
    Box::new(plain("io", err.to_string()))
}

/// A webhook request refused: a `WebhookError` of the core's table.
pub fn webhook(reason: &str, message: String) -> Failure {
    let mut fields = Map::new();
    fields.insert("kind".into(), json!("webhook"));
    fields.insert("reason".into(), json!(reason));
    Box::new(NativeError { class: Some("WebhookError".into()), fields, ..plain("core", message) })
}
