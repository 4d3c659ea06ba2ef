//! Webhook helpers over the core: signature check, subscription handshake,
//! and every event of a batch as plain objects (camelCase keys, timestamps
//! in epoch milliseconds that `webhooks.js` turns into `Date`s).

use std::collections::HashMap;

use messenger_handover::webhooks::{self, Event, EventContext, WebhookError};
use napi::bindgen_prelude::{Buffer, Either};
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Map, Value};

use crate::errors::{from_core, invalid, throw, webhook};

fn bytes(body: &Either<Buffer, String>) -> &[u8] {
    match body {
        Either::A(b) => b.as_ref(),
        Either::B(s) => s.as_bytes(),
    }
}

fn webhook_error(env: &Env, e: WebhookError) -> napi::Error {
    let reason = match e {
        WebhookError::Subscription(_) => "subscription",
        WebhookError::Malformed(_) => "malformed",
    };
    throw(env, webhook(reason, e.to_string()))
}

/// Checks `X-Hub-Signature-256` against the raw body, in constant time;
/// an empty app secret is refused (the core's rule).
#[napi]
pub fn verify_signature(
    env: &Env,
    app_secret: String,
    raw_body: Either<Buffer, String>,
    header: Option<String>,
) -> napi::Result<bool> {
    webhooks::check_secret("app_secret", &app_secret).map_err(|e| throw(env, from_core(e)))?;
    Ok(webhooks::verify_signature(&app_secret, bytes(&raw_body), header.as_deref()))
}

/// Refuses an empty webhook secret (`appSecret` or `verifyToken`) where a
/// handler is made.
#[napi]
pub fn check_webhook_secret(env: &Env, argument: String, value: String) -> napi::Result<()> {
    let argument = match argument.as_str() {
        "appSecret" => "app_secret",
        "verifyToken" => "verify_token",
        _ => return Err(throw(env, invalid("argument", "must be \"appSecret\" or \"verifyToken\""))),
    };
    webhooks::check_secret(argument, &value).map_err(|e| throw(env, from_core(e)))
}

/// The `X-Hub-Signature-256` value for a body (for tests and emulators).
#[napi]
pub fn sign_webhook_body(app_secret: String, raw_body: Either<Buffer, String>) -> String {
    webhooks::sign(&app_secret, bytes(&raw_body))
}

/// Answers the subscription handshake: the challenge to echo back.
#[napi]
pub fn verify_subscription(env: &Env, params: HashMap<String, String>, verify_token: String) -> napi::Result<String> {
    webhooks::check_secret("verify_token", &verify_token).map_err(|e| throw(env, from_core(e)))?;
    webhooks::verify_subscription(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &verify_token)
        .map_err(|e| webhook_error(env, e))
}

fn context(c: &EventContext, ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), ty.into());
    m.insert("pageId".into(), c.page_id.clone().into());
    m.insert("psid".into(), c.psid.clone().into());
    m.insert("timestamp".into(), c.timestamp.map(|t| t.timestamp_millis()).into());
    m
}

fn to_js(event: Event) -> Value {
    let (mut m, extra) = match event {
        Event::PassThreadControl { context: c, new_owner_app_id, previous_owner_app_id, metadata } => (
            context(&c, "pass_thread_control"),
            json!({ "newOwnerAppId": new_owner_app_id, "previousOwnerAppId": previous_owner_app_id, "metadata": metadata }),
        ),
        Event::TakeThreadControl { context: c, previous_owner_app_id, metadata } => (
            context(&c, "take_thread_control"),
            json!({ "previousOwnerAppId": previous_owner_app_id, "metadata": metadata }),
        ),
        Event::RequestThreadControl { context: c, requested_owner_app_id, metadata } => (
            context(&c, "request_thread_control"),
            json!({ "requestedOwnerAppId": requested_owner_app_id, "metadata": metadata }),
        ),
        Event::AppRoles { context: c, roles } => (context(&c, "app_roles"), json!({ "roles": roles })),
        Event::Message { context: c, mid, text, attachments, is_echo, app_id } => (
            context(&c, "message"),
            json!({ "mid": mid, "text": text, "attachments": attachments, "isEcho": is_echo, "appId": app_id }),
        ),
        Event::Standby { context: c, event } => (context(&c, "standby"), json!({ "event": to_js(*event) })),
        Event::Other { context: c, event } => (context(&c, "other"), json!({ "event": event })),
    };
    if let Value::Object(extra) = extra {
        m.extend(extra);
    }
    Value::Object(m)
}

/// Every event of every entry of a webhook batch, in order.
#[napi(ts_return_type = "Array<Record<string, unknown>>")]
pub fn parse_events(env: &Env, raw_body: Either<Buffer, String>) -> napi::Result<Vec<Value>> {
    webhooks::parse_events(bytes(&raw_body))
        .map(|events| events.into_iter().map(to_js).collect())
        .map_err(|e| webhook_error(env, e))
}
