//! Signed webhook deliveries (`messaging_handovers`, `messages`, `standby`) to each app's callback.

use crate::config::AppRole;
use crate::state::{Inner, Shared};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// One POST to make: the body is fixed here so the signature covers the exact bytes.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub role: AppRole,
    pub url: String,
    pub body: String,
    pub signature: String,
}

/// A messaging event for `psid` carrying `kind: payload`.
pub fn event(shared: &Shared, psid: &str, kind: &str, payload: Value) -> Value {
    let mut ev = json!({
        "sender": {"id": psid},
        "recipient": {"id": shared.page_id},
        "timestamp": chrono::Utc::now().timestamp_millis(),
    });
    ev[kind] = payload;
    ev
}

/// Wraps `ev` for `role` under `list` ("messaging" or "standby"), if that app has a callback.
pub fn prepare(shared: &Shared, inner: &Inner, role: AppRole, list: &str, ev: &Value) -> Option<Delivery> {
    let url = inner.webhooks.get(&role)?.clone();
    let mut entry = json!({
        "id": shared.page_id,
        "time": chrono::Utc::now().timestamp_millis(),
    });
    entry[list] = json!([ev]);
    let body = json!({"object": "page", "entry": [entry]}).to_string();
    let signature = sign(&shared.apps.get(role).secret, body.as_bytes());
    Some(Delivery { role, url, body, signature })
}

/// `sha256=<hex>` of the body keyed by the app secret, as `X-Hub-Signature-256` carries it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs one delivery; failures are logged, never fatal.
pub async fn send(client: reqwest::Client, d: Delivery) {
    let result = client
        .post(&d.url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature-256", &d.signature)
        .body(d.body)
        .send()
        .await;
    match result {
        Ok(resp) if resp.status().is_success() => {}
        Ok(resp) => tracing::warn!(role = d.role.as_str(), status = %resp.status(), "webhook rejected"),
        Err(e) => tracing::warn!(role = d.role.as_str(), error = %e, "webhook delivery failed"),
    }
}

/// Fire-and-forget: responses never wait for webhooks.
pub fn spawn_all(shared: &Shared, deliveries: Vec<Delivery>) {
    for d in deliveries {
        shared.runtime.spawn(send(shared.http.clone(), d));
    }
}
