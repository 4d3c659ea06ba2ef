//! The unauthenticated admin API under `/_emulator/` (not logged).

use crate::config::{AppRole, FeatureStatus, RateLimitConfig};
use crate::faults::FaultSpec;
use crate::response::respond;
use crate::server::Body;
use crate::state::Shared;
use bytes::Bytes;
use hyper::Response;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::io;

#[derive(Deserialize)]
struct WebhookBody {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct PrimaryReceiverBody {
    app: AppRole,
}

#[derive(Deserialize)]
struct DefaultAppBody {
    app: Option<AppRole>,
}

#[derive(Deserialize)]
struct LogCapacityBody {
    capacity: usize,
}

#[derive(Deserialize)]
struct PacingBody {
    conversations_per_second: u32,
}

#[derive(Deserialize)]
struct BumpBody {
    id: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct ClockBody {
    advance_secs: i64,
}

#[derive(Deserialize)]
struct MessageBody {
    psid: String,
    #[serde(default)]
    text: String,
}

pub async fn handle(shared: &Shared, method: &str, path: &str, body: &Bytes) -> io::Result<Response<Body>> {
    let route = path.trim_start_matches("/_emulator").trim_matches('/');
    let result = match (method, route) {
        ("POST", "reset") => {
            shared.reset();
            Ok(ok())
        }
        ("GET", "state") => Ok(shared.state_json()),
        ("GET", "info") => Ok(crate::info_json(shared)),
        ("GET", "requests") => Ok(json!(shared.lock().log)),
        ("DELETE", "requests") => {
            shared.lock().log.clear();
            Ok(ok())
        }
        ("POST", "faults") => parse::<FaultSpec>(body).map(|f| {
            shared.lock().faults.push(f);
            ok()
        }),
        ("DELETE", "faults") => {
            shared.lock().faults.clear();
            Ok(ok())
        }
        ("GET", "rate_limit") => Ok(json!(shared.lock().limiter.config)),
        ("PUT", "rate_limit") => parse::<RateLimitConfig>(body).map(|c| {
            shared.lock().limiter.set_config(c);
            ok()
        }),
        ("POST", "messages") => match parse::<MessageBody>(body) {
            Ok(m) => match crate::simulate(shared, &m.psid, &m.text).await {
                Ok(()) => Ok(ok()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        },
        ("PUT", "requests/capacity") => parse::<LogCapacityBody>(body).map(|b| {
            shared.lock().set_log_capacity(b.capacity);
            ok()
        }),
        ("GET", "default_app") => Ok(json!({"app": shared.lock().default_app})),
        ("PUT", "default_app") => parse::<DefaultAppBody>(body).map(|b| {
            shared.lock().default_app = b.app;
            ok()
        }),
        ("GET", "feature_status") => Ok(json!(shared.lock().feature_status)),
        ("PUT", "feature_status") => parse::<FeatureStatus>(body).map(|f| {
            shared.lock().feature_status = f;
            ok()
        }),
        ("GET", "pacing") => Ok(json!({"conversations_per_second": shared.lock().limiter.conversations_per_second})),
        ("PUT", "pacing") => parse::<PacingBody>(body).map(|p| {
            let mut inner = shared.lock();
            inner.limiter.conversations_per_second = p.conversations_per_second;
            inner.limiter.reset_counters();
            ok()
        }),
        ("GET", "conversations") => Ok(crate::conversation_list(shared)),
        ("POST", "conversations/bump") => parse::<BumpBody>(body).and_then(|b| {
            crate::bump_conversation(shared, &b.id, b.text.as_deref()).ok_or_else(|| "no such conversation".to_string())
        }),
        ("GET", "clock") => Ok(json!({"now": crate::graph_time::format_time(shared.lock().now())})),
        ("POST", "clock") => parse::<ClockBody>(body).and_then(|c| crate::advance_clock(shared, c.advance_secs)),
        ("GET", "primary_receiver") => Ok(json!({"app": shared.lock().primary})),
        // Answers once the app_roles webhooks were delivered, as `messages` does.
        ("PUT", "primary_receiver") => match parse::<PrimaryReceiverBody>(body) {
            Ok(b) => {
                crate::set_primary_receiver(shared, b.app).await;
                Ok(ok())
            }
            Err(e) => Err(e),
        },
        ("PUT", r) if r.starts_with("webhooks/") => {
            let role = r.trim_start_matches("webhooks/").parse::<AppRole>();
            match (role, parse::<WebhookBody>(body)) {
                (Ok(role), Ok(w)) => {
                    crate::set_webhook(shared, role, w.url);
                    Ok(ok())
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        _ => {
            let body = json!({"error": format!("no admin route {method} {path}")});
            return Ok(respond(404, "application/json", body.to_string(), &[]));
        }
    };
    Ok(match result {
        Ok(v) => respond(200, "application/json", v.to_string(), &[]),
        Err(e) => respond(400, "application/json", json!({ "error": e }).to_string(), &[]),
    })
}

fn ok() -> Value {
    json!({"ok": true})
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    let bytes: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON body: {e}"))
}
