//! The Graph endpoints: thread control, secondary receivers, conversations, with real error codes.
//!
//! Routing mode follows Conversation Routing as Meta documents it
//! (<https://developers.facebook.com/docs/messenger-platform/conversation-routing/> and, for
//! the control calls, <https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/human-agent-escalation>):
//! a default app or none, threads idle after 24 h without a user message (or once
//! released), only the default app answering an idle thread, take for the default app
//! only (#27 without one), request on an idle thread passing it, extend up to 7 days.

use crate::config::{AppRole, Mode};
use crate::conversations::{self, ListRequest};
use crate::error::GraphError;
use crate::graph_time::format_time;
use crate::state::{Inner, PendingRequest, Shared};
use crate::webhooks::{self, Delivery};
use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

/// One authenticated Graph call, already routed to an edge.
pub struct Call<'a> {
    pub role: AppRole,
    pub method: &'a str,
    pub version: &'a str,
    pub page_segment: &'a str,
    /// `None` for the page node itself.
    pub edge: Option<&'a str>,
    /// Query parameters without the token.
    pub query: &'a [(String, String)],
    /// The POST parameters (JSON object, or the decoded form).
    pub params: &'a Map<String, Value>,
    pub token: &'a str,
}

pub struct Outcome {
    pub body: Value,
    pub deliveries: Vec<Delivery>,
}

impl Outcome {
    fn plain(body: Value) -> Self {
        Outcome { body, deliveries: Vec::new() }
    }
}

const GET_EDGES: [&str; 3] = ["thread_owner", "secondary_receivers", "conversations"];
const POST_EDGES: [&str; 6] = [
    "messages",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "release_thread_control",
    "extend_thread_control",
];

pub fn dispatch(shared: &Shared, inner: &mut Inner, call: &Call<'_>) -> Result<Outcome, GraphError> {
    if call.page_segment != shared.page_id && call.page_segment != "me" {
        return conversation_node(shared, inner, call);
    }
    let Some(edge) = call.edge else {
        return match call.method {
            "GET" => page_node(shared, inner, call).map(Outcome::plain),
            m => Err(GraphError::unsupported(m, call.page_segment)),
        };
    };
    let is_get = GET_EDGES.contains(&edge);
    if !is_get && !POST_EDGES.contains(&edge) {
        return Err(GraphError::nonexisting_field(edge, "Page"));
    }
    let expected = if is_get { "GET" } else { "POST" };
    if call.method != expected {
        return Err(GraphError::unsupported(call.method, call.page_segment));
    }
    let mut ctx = Ctx { shared, inner, call, mode: shared.config.mode, deliveries: Vec::new() };
    let body = match edge {
        "thread_owner" => ctx.thread_owner()?,
        "secondary_receivers" => ctx.secondary_receivers()?,
        "conversations" => ctx.conversations()?,
        "pass_thread_control" => ctx.pass()?,
        "take_thread_control" => ctx.take()?,
        "request_thread_control" => ctx.request()?,
        "release_thread_control" => ctx.release()?,
        "messages" => ctx.send()?,
        _ => ctx.extend()?,
    };
    Ok(Outcome { body, deliveries: ctx.deliveries })
}

/// `/{conversation-id}` and `/{conversation-id}/messages`; anything else does not exist.
fn conversation_node(shared: &Shared, inner: &mut Inner, call: &Call<'_>) -> Result<Outcome, GraphError> {
    let unsupported = || GraphError::unsupported(call.method, call.page_segment);
    let c = inner.conversations.iter().find(|c| c.id == call.page_segment).ok_or_else(unsupported)?;
    if call.method != "GET" {
        return Err(unsupported());
    }
    if call.role == AppRole::Secondary && shared.config.mode == Mode::Handover {
        return Err(GraphError::permission());
    }
    let req = list_request(shared, call);
    match call.edge {
        None => conversations::node(c, &req).map(Outcome::plain),
        Some("messages") => conversations::messages(c, &req).map(Outcome::plain),
        Some(edge) => Err(GraphError::nonexisting_field(edge, "UnifiedThread")),
    }
}

/// `GET /{page}?fields=id,name,messaging_feature_status`.
fn page_node(shared: &Shared, inner: &Inner, call: &Call<'_>) -> Result<Value, GraphError> {
    let raw = call.query.iter().find(|(k, _)| k == "fields").map(|(_, v)| v.as_str()).unwrap_or("");
    let fields =
        if raw.trim().is_empty() { vec![crate::fields::Field::plain("name")] } else { crate::fields::parse(raw)? };
    let mut out = serde_json::Map::new();
    for f in fields {
        let v = match f.name.as_str() {
            "id" => continue,
            "name" => json!("Emulated Helpdesk Page"),
            "messaging_feature_status" => json!(inner.feature_status),
            other => return Err(GraphError::nonexisting_field(other, "Page")),
        };
        out.insert(f.name, v);
    }
    out.insert("id".into(), json!(shared.page_id));
    Ok(Value::Object(out))
}

fn list_request<'a>(shared: &'a Shared, call: &'a Call<'a>) -> ListRequest<'a> {
    ListRequest {
        params: call.query,
        base_url: &shared.url,
        version: call.version,
        page_segment: call.page_segment,
        page_id: &shared.page_id,
        token: call.token,
    }
}

/// A user message arrives on `psid`: the owner gets it, every other subscribed app a standby copy.
pub fn user_message(shared: &Shared, inner: &mut Inner, psid: &str, text: &str) -> Vec<Delivery> {
    let now = inner.now();
    let mode = shared.config.mode;
    let default_app = inner.default_app;
    let thread = inner.thread(psid, mode, now);
    if mode == Mode::Routing {
        let day = now + Duration::hours(IDLE_AFTER_HOURS);
        match thread.owner {
            // An idle thread goes to the default app (if any) for a day.
            None if default_app.is_some() => {
                thread.owner = default_app;
                thread.expiration = Some(day);
            }
            None => {}
            // A user message keeps the owner's control alive for another day (never shortens an extension).
            Some(_) => thread.expiration = thread.expiration.max(Some(day)),
        }
    }
    // No owner (routing without a default app): every app may answer, every app gets it.
    let owner = thread.owner;
    let mid = format!("m_{}", inner.next_trace());
    let ev = webhooks::event(shared, psid, "message", json!({"mid": mid, "text": text}));
    AppRole::ALL
        .into_iter()
        .filter_map(|role| {
            let list = if owner.is_none_or(|o| o == role) { "messaging" } else { "standby" };
            webhooks::prepare(shared, inner, role, list, &ev)
        })
        .collect()
}

/// Control lapses after a day without a user message (Conversation Routing).
const IDLE_AFTER_HOURS: i64 = 24;

/// A Page admin makes `app` the primary receiver (Handover) or default app
/// (Routing). Each app whose role changed gets an `app_roles` event listing
/// its roles now, as the real platform sends; nothing is sent when `app`
/// already holds the role. Threads keep their owners.
pub fn set_primary_receiver(shared: &Shared, inner: &mut Inner, app: AppRole) -> Vec<Delivery> {
    inner.default_app = Some(app);
    let previous = std::mem::replace(&mut inner.primary, app);
    if previous == app {
        return Vec::new();
    }
    [(app, "primary_receiver"), (previous, "secondary_receiver")]
        .into_iter()
        .filter_map(|(role, now_holds)| {
            let ev = json!({
                "recipient": {"id": shared.page_id},
                "timestamp": Utc::now().timestamp_millis(),
                "app_roles": {role.app_id(): [now_holds]},
            });
            webhooks::prepare(shared, inner, role, "messaging", &ev)
        })
        .collect()
}

struct Ctx<'a> {
    shared: &'a Shared,
    inner: &'a mut Inner,
    call: &'a Call<'a>,
    mode: Mode,
    deliveries: Vec<Delivery>,
}

fn success() -> Value {
    json!({"success": true})
}

impl Ctx<'_> {
    fn query(&self, key: &str) -> Option<&str> {
        self.call.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn notify(&mut self, role: AppRole, psid: &str, kind: &str, payload: Value) {
        let ev = webhooks::event(self.shared, psid, kind, payload);
        if let Some(d) = webhooks::prepare(self.shared, self.inner, role, "messaging", &ev) {
            self.deliveries.push(d);
        }
    }

    fn owner(&mut self, psid: &str) -> Option<AppRole> {
        let now = self.inner.now();
        self.inner.thread(psid, self.mode, now).owner
    }

    fn set_owner(&mut self, psid: &str, owner: Option<AppRole>, ttl: Option<Duration>) {
        let now = self.inner.now();
        let mode = self.mode;
        let t = self.inner.thread(psid, mode, now);
        t.owner = owner;
        t.expiration = match (mode, owner) {
            (Mode::Routing, Some(_)) => Some(now + ttl.unwrap_or(Duration::hours(24))),
            _ => None,
        };
    }

    /// The primary (Handover) or the default app (Routing; `None` when unset).
    fn default_app(&self) -> Option<AppRole> {
        match self.mode {
            Mode::Handover => Some(self.inner.primary),
            Mode::Routing => self.inner.default_app,
        }
    }

    /// Whether the calling app may speak on (send to, pass) the thread: its
    /// owner, or on an idle thread the default app (any app when there is none).
    fn may_answer(&mut self, psid: &str) -> bool {
        let me = self.call.role;
        match self.owner(psid) {
            Some(owner) => owner == me,
            None => self.default_app().is_none_or(|d| d == me),
        }
    }

    /// The Send API (`POST /{page}/messages`), as far as thread control goes:
    /// only an app that may answer the thread can send.
    fn send(&mut self) -> Result<Value, GraphError> {
        let psid = self.recipient()?;
        let text = self.call.params.get("message").and_then(|m| m.get("text")).and_then(Value::as_str);
        let attachment = self.call.params.get("message").and_then(|m| m.get("attachment"));
        if text.is_none_or(str::is_empty) && attachment.is_none() {
            return Err(GraphError::param("(#100) The parameter message is required"));
        }
        if !self.may_answer(&psid) {
            return Err(GraphError::not_owner());
        }
        let mid = format!("m_{}", self.inner.next_trace());
        Ok(json!({"recipient_id": psid, "message_id": mid}))
    }

    fn thread_owner(&mut self) -> Result<Value, GraphError> {
        let psid = match self.query("recipient") {
            None | Some("") => return Err(GraphError::recipient_required()),
            Some(p) => valid_psid(p)?,
        };
        if self.mode == Mode::Handover && self.call.role != self.inner.primary {
            return Err(GraphError::permission());
        }
        let mode = self.mode;
        let now = self.inner.now();
        let t = self.inner.thread(&psid, mode, now).clone();
        let Some(owner) = t.owner else {
            return Ok(json!({"data": []}));
        };
        let me = self.call.role;
        let expiration = t.expiration.map(format_time);
        if mode == Mode::Routing && me != owner && Some(me) != self.inner.default_app {
            // Routing: only the owner and the default app learn who owns the thread;
            // any other app sees only until when it is held.
            return Ok(json!({"data": [{"expiration": expiration}]}));
        }
        let mut item = json!({"thread_owner": {"app_id": owner.app_id()}});
        if let (Mode::Routing, Some(exp)) = (mode, expiration) {
            item["expiration"] = json!(exp);
        }
        Ok(json!({"data": [item]}))
    }

    fn secondary_receivers(&mut self) -> Result<Value, GraphError> {
        if self.call.role != self.inner.primary {
            return Err(GraphError::permission());
        }
        let fields: Vec<&str> = match self.query("fields") {
            None | Some("") => vec!["id", "name"],
            Some(f) => f.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        };
        if let Some(bad) = fields.iter().find(|f| !["id", "name"].contains(f)) {
            return Err(GraphError::nonexisting_field(bad, "Application"));
        }
        let primary = self.inner.primary;
        let data: Vec<Value> = AppRole::ALL
            .into_iter()
            // The Instagram Inbox serves Instagram threads, not the Page's Messenger receivers.
            .filter(|r| *r != primary && *r != AppRole::InstagramInbox)
            .map(|r| {
                let mut o = json!({"id": r.app_id()});
                if fields.contains(&"name") {
                    o["name"] = json!(r.display_name());
                }
                o
            })
            .collect();
        Ok(json!({"data": data}))
    }

    fn conversations(&mut self) -> Result<Value, GraphError> {
        let role = self.call.role;
        if role == AppRole::Secondary && self.mode == Mode::Handover {
            return Err(GraphError::permission());
        }
        let req = list_request(self.shared, self.call);
        if let Some(code) = self.inner.limiter.pace_conversations() {
            return Err(GraphError::rate_limited(code));
        }
        conversations::list(&self.inner.conversations, &req)
    }

    fn recipient(&self) -> Result<String, GraphError> {
        let id = self
            .call
            .params
            .get("recipient")
            .and_then(|r| r.get("id"))
            .and_then(id_string)
            .ok_or_else(GraphError::recipient_required)?;
        valid_psid(&id)
    }

    fn metadata(&self) -> Result<Option<String>, GraphError> {
        match self.call.params.get("metadata") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= 1000 => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(GraphError::param("(#100) metadata must be at most 1000 characters")),
            Some(other) => Ok(Some(other.to_string())),
        }
    }

    fn pass(&mut self) -> Result<Value, GraphError> {
        let psid = self.recipient()?;
        let metadata = self.metadata()?;
        let target = self
            .call
            .params
            .get("target_app_id")
            .ok_or_else(|| GraphError::param("(#100) The parameter target_app_id is required"))?;
        let target = id_string(target).and_then(|id| AppRole::from_app_id(&id)).ok_or_else(GraphError::bad_target)?;
        let me = self.call.role;
        if !self.may_answer(&psid) {
            return Err(GraphError::not_owner());
        }
        if target == me {
            return Err(GraphError::bad_target());
        }
        self.set_owner(&psid, Some(target), None);
        let payload = json!({
            "new_owner_app_id": target.app_id(),
            "previous_owner_app_id": me.app_id(),
            "metadata": metadata,
        });
        self.notify(target, &psid, "pass_thread_control", payload.clone());
        self.notify(me, &psid, "pass_thread_control", payload);
        Ok(success())
    }

    fn take(&mut self) -> Result<Value, GraphError> {
        let psid = self.recipient()?;
        let metadata = self.metadata()?;
        let me = self.call.role;
        // Only the primary (Handover) or the default app (Routing) may take;
        // without a default app, Routing refuses take altogether.
        match self.default_app() {
            None => return Err(GraphError::take_without_routing()),
            Some(d) if d != me => return Err(GraphError::only_primary_take()),
            Some(_) => {}
        }
        let previous = self.owner(&psid);
        self.set_owner(&psid, Some(me), None);
        if let Some(prev) = previous.filter(|p| *p != me) {
            let payload = json!({
                "previous_owner_app_id": prev.app_id(),
                "new_owner_app_id": me.app_id(),
                "metadata": metadata,
            });
            self.notify(prev, &psid, "take_thread_control", payload);
        }
        Ok(success())
    }

    fn request(&mut self) -> Result<Value, GraphError> {
        let psid = self.recipient()?;
        let metadata = self.metadata()?;
        let me = self.call.role;
        let owner = self.owner(&psid);
        if owner == Some(me) {
            return Err(GraphError::already_owner());
        }
        if owner.is_none() && self.mode == Mode::Routing {
            // A request on an idle thread passes it to the requester at once.
            self.set_owner(&psid, Some(me), None);
            let payload = json!({
                "new_owner_app_id": me.app_id(),
                "previous_owner_app_id": Value::Null,
                "metadata": metadata,
            });
            self.notify(me, &psid, "pass_thread_control", payload);
            return Ok(success());
        }
        self.inner.pending_requests.push(PendingRequest {
            psid: psid.clone(),
            requested_owner_app_id: me.app_id().to_string(),
            metadata: metadata.clone(),
        });
        if let Some(owner) = owner {
            let payload = json!({
                "requested_owner_app_id": me.app_id(),
                "metadata": metadata,
            });
            self.notify(owner, &psid, "request_thread_control", payload);
        }
        Ok(success())
    }

    fn release(&mut self) -> Result<Value, GraphError> {
        let psid = self.recipient()?;
        let metadata = self.metadata()?;
        let me = self.call.role;
        if self.owner(&psid) != Some(me) {
            return Err(GraphError::not_owner());
        }
        let primary = self.inner.primary;
        match self.mode {
            Mode::Routing => self.set_owner(&psid, None, None),
            // A release by the primary leaves it owner, as on the real platform.
            Mode::Handover if me == primary => {}
            Mode::Handover => {
                self.set_owner(&psid, Some(primary), None);
                let payload = json!({
                    "new_owner_app_id": primary.app_id(),
                    "previous_owner_app_id": me.app_id(),
                    "metadata": metadata,
                });
                self.notify(primary, &psid, "pass_thread_control", payload);
            }
        }
        Ok(success())
    }

    fn extend(&mut self) -> Result<Value, GraphError> {
        if self.mode != Mode::Routing {
            return Err(GraphError::routing_disabled());
        }
        let psid = self.recipient()?;
        let duration = self
            .call
            .params
            .get("duration")
            .and_then(|d| match d {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .filter(|d| (1..=604_800).contains(d))
            .ok_or_else(|| GraphError::param("(#100) duration must be between 1 and 604800"))?;
        let me = self.call.role;
        match self.owner(&psid) {
            None => Err(GraphError::thread_idle()),
            Some(o) if o != me => Err(GraphError::not_owner()),
            Some(_) => {
                self.set_owner(&psid, Some(me), Some(Duration::seconds(duration)));
                Ok(success())
            }
        }
    }
}

/// Ids arrive as strings or numbers; both mean the same.
fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// Any all-digit PSID is a user, except one that starts with 0 (Meta never
/// issues one): that is how a test asks for a user the Page does not know,
/// since the clients refuse a PSID that is not digits before sending it.
fn valid_psid(p: &str) -> Result<String, GraphError> {
    if !p.is_empty() && p.len() <= 32 && !p.starts_with('0') && p.bytes().all(|b| b.is_ascii_digit()) {
        Ok(p.to_string())
    } else {
        Err(GraphError::no_user())
    }
}
