//! Webhooks: checking a delivery is Meta's, answering the subscription
//! handshake, and reading every event of every entry of a batch.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::secret::Secret;

/// A webhook request that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The subscription handshake was not a valid `subscribe` with our token.
    #[error("webhook subscription refused: {0}")]
    Subscription(String),
    /// The body is not a webhook batch.
    #[error("malformed webhook body: {0}")]
    Malformed(String),
}

/// Refuses an empty (or blank) app secret or verify token where a webhook
/// verifier is made: with an empty app secret anyone can sign a body (an
/// unset environment variable would accept forged events), with an empty
/// verify token anyone can subscribe. `argument` names it in the error.
pub fn check_secret(argument: &'static str, value: &str) -> crate::Result<()> {
    if value.trim().is_empty() {
        return Err(crate::Error::invalid(argument, "must not be empty (is its environment variable unset?)"));
    }
    Ok(())
}

/// A webhook endpoint's secrets, checked once when it is made: the app
/// secret that signs deliveries and, for the GET handshake, the verify token.
#[derive(Clone)]
pub struct Verifier {
    app_secret: Secret,
    verify_token: Option<Secret>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// Refuses an empty app secret (`InvalidInput`).
    pub fn new(app_secret: &str) -> crate::Result<Self> {
        check_secret("app_secret", app_secret)?;
        Ok(Verifier { app_secret: Secret::new(app_secret.to_owned()), verify_token: None })
    }

    /// Enables the subscription handshake; refuses an empty token.
    pub fn with_verify_token(mut self, verify_token: &str) -> crate::Result<Self> {
        check_secret("verify_token", verify_token)?;
        self.verify_token = Some(Secret::new(verify_token.to_owned()));
        Ok(self)
    }

    /// As [`verify_signature`], with this endpoint's app secret.
    pub fn verify_signature(&self, raw_body: &[u8], header: Option<&str>) -> bool {
        verify_signature(self.app_secret.expose(), raw_body, header)
    }

    /// As [`verify_subscription`]; refused when no verify token was given.
    pub fn verify_subscription<'a, I>(&self, params: I) -> Result<String, WebhookError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let token = self.verify_token.as_ref().map(Secret::expose).unwrap_or("");
        verify_subscription(params, token)
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against the raw body, in
/// constant time. Anything missing, malformed or wrong is `false`, and so is
/// every body when the app secret is empty: see [`check_secret`].
pub fn verify_signature(app_secret: &str, raw_body: &[u8], header: Option<&str>) -> bool {
    if check_secret("app_secret", app_secret).is_err() {
        return false;
    }
    let Some(hex_sig) = header.map(str::trim).and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes()) else { return false };
    mac.update(raw_body);
    mac.verify_slice(&expected).is_ok()
}

/// The `X-Hub-Signature-256` value for a body: what Meta sends, and what
/// the emulator and tests sign with.
pub fn sign(app_secret: &str, raw_body: &[u8]) -> String {
    format!("sha256={}", crate::secret::hmac_sha256_hex(app_secret.as_bytes(), raw_body))
}

/// Answers the GET handshake (`hub.mode=subscribe`, `hub.verify_token`,
/// `hub.challenge`): the challenge to echo back, or why not. An empty
/// `verify_token` answers no handshake (see [`check_secret`]).
pub fn verify_subscription<'a, I>(params: I, verify_token: &str) -> Result<String, WebhookError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    if check_secret("verify_token", verify_token).is_err() {
        return Err(WebhookError::Subscription("no verify token is configured".to_owned()));
    }
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (k, v) in params {
        match k {
            "hub.mode" => mode = Some(v),
            "hub.verify_token" => token = Some(v),
            "hub.challenge" => challenge = Some(v),
            _ => {}
        }
    }
    match mode {
        Some("subscribe") => {}
        Some(other) => return Err(WebhookError::Subscription(format!("hub.mode is {other:?}, not \"subscribe\""))),
        None => return Err(WebhookError::Subscription("hub.mode is missing".to_owned())),
    }
    let token = token.ok_or_else(|| WebhookError::Subscription("hub.verify_token is missing".to_owned()))?;
    // Compare as MACs so the time taken says nothing about the token.
    let same = {
        let key = b"messenger-handover verify_token";
        let a = crate::secret::hmac_sha256_hex(key, token.as_bytes());
        match <Hmac<Sha256> as Mac>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(verify_token.as_bytes());
                hex::decode(a).map(|a| mac.verify_slice(&a).is_ok()).unwrap_or(false)
            }
            Err(_) => false,
        }
    };
    if !same {
        return Err(WebhookError::Subscription("hub.verify_token does not match".to_owned()));
    }
    match challenge {
        Some(c) if !c.is_empty() => Ok(c.to_owned()),
        _ => Err(WebhookError::Subscription("hub.challenge is missing".to_owned())),
    }
}

/// Where and when an event happened: every event has these.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventContext {
    pub page_id: String,
    /// The user's page-scoped id, when the event is about a thread.
    pub psid: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
}

/// One webhook event, typed where the thread-control API defines it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    PassThreadControl {
        #[serde(flatten)]
        context: EventContext,
        new_owner_app_id: String,
        previous_owner_app_id: Option<String>,
        metadata: Option<String>,
    },
    TakeThreadControl {
        #[serde(flatten)]
        context: EventContext,
        previous_owner_app_id: Option<String>,
        metadata: Option<String>,
    },
    RequestThreadControl {
        #[serde(flatten)]
        context: EventContext,
        requested_owner_app_id: String,
        metadata: Option<String>,
    },
    AppRoles {
        #[serde(flatten)]
        context: EventContext,
        roles: BTreeMap<String, Vec<String>>,
    },
    /// A message from the user, or the echo of a message the Page sent
    /// (`is_echo`): a bot tells a human's reply from the Page Inbox (echo
    /// `app_id` 263902037430900) from its own by `app_id`.
    /// <https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages>,
    /// <https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes>
    Message {
        #[serde(flatten)]
        context: EventContext,
        mid: Option<String>,
        text: Option<String>,
        /// As the Graph API sent them.
        attachments: Option<Value>,
        is_echo: bool,
        /// The app that sent an echo; `None` for a user's message.
        app_id: Option<String>,
    },
    /// A copy of an event for an app that does not own the thread (the
    /// `standby` list); `event` is that event, typed as in `messaging`.
    Standby {
        #[serde(flatten)]
        context: EventContext,
        event: Box<Event>,
    },
    /// Any other event, kept whole: never dropped.
    Other {
        #[serde(flatten)]
        context: EventContext,
        event: Value,
    },
}

impl Event {
    pub fn context(&self) -> &EventContext {
        match self {
            Event::PassThreadControl { context, .. }
            | Event::TakeThreadControl { context, .. }
            | Event::RequestThreadControl { context, .. }
            | Event::AppRoles { context, .. }
            | Event::Message { context, .. }
            | Event::Standby { context, .. }
            | Event::Other { context, .. } => context,
        }
    }
}

#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default, deserialize_with = "crate::json::opt_id_string")]
    id: Option<String>,
    #[serde(default)]
    messaging: Vec<Value>,
    #[serde(default)]
    standby: Vec<Value>,
}

#[derive(Deserialize)]
struct Handover {
    #[serde(default, deserialize_with = "crate::json::opt_id_string")]
    new_owner_app_id: Option<String>,
    #[serde(default, deserialize_with = "crate::json::opt_id_string")]
    previous_owner_app_id: Option<String>,
    #[serde(default, deserialize_with = "crate::json::opt_id_string")]
    requested_owner_app_id: Option<String>,
    #[serde(default)]
    metadata: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    mid: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Option<Value>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default, deserialize_with = "crate::json::opt_id_string")]
    app_id: Option<String>,
}

/// Every event of every entry, in order. Meta batches up to 1,000.
pub fn parse_events(raw_body: &[u8]) -> Result<Vec<Event>, WebhookError> {
    let batch: Batch = serde_json::from_slice(raw_body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let mut events = Vec::new();
    for entry in batch.entry {
        for raw in entry.messaging {
            events.push(messaging_event(entry.id.as_deref(), raw)?);
        }
        for raw in entry.standby {
            let context = context_of(entry.id.as_deref(), &raw)?;
            // A standby copy is passive context: one that cannot be read as
            // its type is kept whole rather than failing the delivery.
            let inner = match messaging_event(entry.id.as_deref(), raw.clone()) {
                Ok(event) => event,
                Err(_) => Event::Other { context: context.clone(), event: raw },
            };
            events.push(Event::Standby { context: inner.context().clone(), event: Box::new(inner) });
        }
    }
    Ok(events)
}

/// `raw[outer].id`: a fractional or negative number is refused, never rounded.
fn id_at(v: &Value, outer: &str) -> Result<Option<String>, WebhookError> {
    crate::json::id_from_value(v.get(outer).and_then(|o| o.get("id")))
        .map_err(|e| WebhookError::Malformed(format!("{outer}.id: {e}")))
}

fn context_of(entry_id: Option<&str>, raw: &Value) -> Result<EventContext, WebhookError> {
    let page_id = match entry_id {
        Some(id) => id.to_owned(),
        None => id_at(raw, "recipient")?.unwrap_or_default(),
    };
    Ok(EventContext {
        page_id,
        psid: id_at(raw, "sender")?,
        timestamp: raw.get("timestamp").and_then(Value::as_i64).and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
    })
}

fn messaging_event(entry_id: Option<&str>, raw: Value) -> Result<Event, WebhookError> {
    let context = context_of(entry_id, &raw)?;
    let handover = |key: &str| -> Result<Option<Handover>, WebhookError> {
        raw.get(key)
            .map(|v| Handover::deserialize(v).map_err(|e| WebhookError::Malformed(format!("{key}: {e}"))))
            .transpose()
    };
    if let Some(h) = handover("pass_thread_control")? {
        return Ok(Event::PassThreadControl {
            context,
            new_owner_app_id: h.new_owner_app_id.unwrap_or_default(),
            previous_owner_app_id: h.previous_owner_app_id,
            metadata: h.metadata,
        });
    }
    if let Some(h) = handover("take_thread_control")? {
        return Ok(Event::TakeThreadControl {
            context,
            previous_owner_app_id: h.previous_owner_app_id,
            metadata: h.metadata,
        });
    }
    if let Some(h) = handover("request_thread_control")? {
        return Ok(Event::RequestThreadControl {
            context,
            requested_owner_app_id: h.requested_owner_app_id.unwrap_or_default(),
            metadata: h.metadata,
        });
    }
    if let Some(message) = raw.get("message").filter(|m| m.is_object()) {
        let m = Message::deserialize(message).map_err(|e| WebhookError::Malformed(format!("message: {e}")))?;
        let mut context = context;
        if m.is_echo {
            // An echo goes from the Page to the user: the user is the recipient.
            context.psid = id_at(&raw, "recipient")?;
        }
        return Ok(Event::Message {
            context,
            mid: m.mid,
            text: m.text,
            attachments: m.attachments,
            is_echo: m.is_echo,
            app_id: m.app_id,
        });
    }
    if let Some(roles) = raw.get("app_roles") {
        let roles: BTreeMap<String, Vec<String>> =
            serde_json::from_value(roles.clone()).map_err(|e| WebhookError::Malformed(format!("app_roles: {e}")))?;
        return Ok(Event::AppRoles { context, roles });
    }
    Ok(Event::Other { context, event: raw })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let body = br#"{"object":"page"}"#;
        let header = sign("s3cret", body);
        assert!(verify_signature("s3cret", body, Some(&header)));
        assert!(!verify_signature("other", body, Some(&header)));
        assert!(!verify_signature("s3cret", b"{}", Some(&header)));
        assert!(!verify_signature("s3cret", body, None));
        assert!(!verify_signature("s3cret", body, Some("sha256=zz")));
        assert!(!verify_signature("s3cret", body, Some("sha1=abcd")));
    }

    #[test]
    fn subscription() {
        let ok = [("hub.mode", "subscribe"), ("hub.verify_token", "tok"), ("hub.challenge", "42")];
        assert_eq!(verify_subscription(ok, "tok"), Ok("42".to_owned()));
        assert!(verify_subscription(ok, "nope").is_err());
        assert!(verify_subscription([("hub.mode", "unsubscribe")], "tok").is_err());
    }

    #[test]
    fn batch_with_every_kind() {
        let body = br#"{"object":"page","entry":[
          {"id":"1","time":1,"messaging":[
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1458692752478,
             "pass_thread_control":{"new_owner_app_id":123,"metadata":"m"}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1,"take_thread_control":{"previous_owner_app_id":"5"}},
            {"recipient":{"id":"1"},"timestamp":1,"app_roles":{"123":["primary_receiver"]}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1,"message":{"mid":"m1","text":"hi"}}]},
          {"id":"1","time":2,"standby":[{"sender":{"id":"8"},"recipient":{"id":"1"},"timestamp":2,"message":{"text":"x"}}],
           "messaging":[{"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":3,"request_thread_control":{"requested_owner_app_id":"263902037430900"}}]}]}"#;
        let events = parse_events(body).unwrap_or_default();
        assert_eq!(events.len(), 6);
        assert!(matches!(&events[0], Event::PassThreadControl { new_owner_app_id, .. } if new_owner_app_id == "123"));
        assert_eq!(events[0].context().psid.as_deref(), Some("9"));
        assert!(matches!(&events[2], Event::AppRoles { roles, .. } if roles["123"] == ["primary_receiver"]));
        assert!(matches!(&events[3], Event::Message { text: Some(t), is_echo: false, .. } if t == "hi"));
        assert!(matches!(&events[4], Event::RequestThreadControl { .. }));
        assert!(matches!(&events[5], Event::Standby { event, .. } if matches!(**event, Event::Message { .. })));
        assert!(parse_events(b"{not json").is_err());
    }
}
