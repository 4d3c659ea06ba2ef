//! The client: construction and one method per Graph operation.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use url::{Host, Url};

use crate::error::{Error, Result};
use crate::model::{App, ThreadOwner};
use crate::retry::RetryPolicy;
use crate::secret::{hmac_sha256_hex, Secret};
use crate::transport::{Call, Transport};
use crate::usage::Usage;
use crate::validate;

pub const DEFAULT_API_VERSION: &str = "v26.0";
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Page Inbox app: passing a thread to it hands the chat to humans.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";
/// The Instagram Inbox app: the Page Inbox's counterpart for Instagram
/// conversations (Conversation Routing:
/// https://developers.facebook.com/docs/messenger-platform/instagram/features/conversation-routing).
pub const INSTAGRAM_INBOX_APP_ID: &str = "1217981644879628";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_RETRIES: u32 = 3;
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(250);
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Connections in flight per client; calls beyond it wait for one.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// Where the Python and Node clients (and the CLI) find the token when the
/// caller gives none: never argv, which every user of the machine can read.
pub const ACCESS_TOKEN_ENV: &str = "PAGE_ACCESS_TOKEN";

/// A value of [`SHARED_CONSTANTS`].
#[derive(Debug, Clone, Copy)]
pub enum ConstantValue {
    Str(&'static str),
    Int(u64),
    /// Python shows it in seconds, Node in milliseconds (its name gains `_MS`).
    Duration(Duration),
}

/// The constants every language exposes (rendered by `cargo run -p xtask -- gen`):
/// name, value, docstring.
pub const SHARED_CONSTANTS: &[(&str, ConstantValue, &str)] = &[
    (
        "ACCESS_TOKEN_ENV",
        ConstantValue::Str(ACCESS_TOKEN_ENV),
        "The environment variable the clients and the CLI read the access token from when none is given.",
    ),
    (
        "PAGE_INBOX_APP_ID",
        ConstantValue::Str(PAGE_INBOX_APP_ID),
        "The Page Inbox app: passing a thread to it hands the chat to humans.",
    ),
    (
        "INSTAGRAM_INBOX_APP_ID",
        ConstantValue::Str(INSTAGRAM_INBOX_APP_ID),
        "The Instagram Inbox app, the Page Inbox's counterpart for Instagram.",
    ),
    (
        "DEFAULT_API_VERSION",
        ConstantValue::Str(DEFAULT_API_VERSION),
        "The Graph API version calls use unless told otherwise.",
    ),
    ("DEFAULT_BASE_URL", ConstantValue::Str(DEFAULT_BASE_URL), "Where calls go unless told otherwise."),
    ("DEFAULT_TIMEOUT", ConstantValue::Duration(DEFAULT_TIMEOUT), "The whole-call timeout."),
    (
        "DEFAULT_MAX_RETRIES",
        ConstantValue::Int(DEFAULT_MAX_RETRIES as u64),
        "How many times a failed call may be sent again.",
    ),
    (
        "MAX_RETRIES_LIMIT",
        ConstantValue::Int(crate::validate::MAX_RETRIES_LIMIT as u64),
        "The largest max_retries accepted, in every language.",
    ),
    (
        "DEFAULT_MAX_RETRY_WAIT",
        ConstantValue::Duration(DEFAULT_MAX_RETRY_WAIT),
        "A throttled call that would wait longer fails at once.",
    ),
    ("DEFAULT_RETRY_BASE_DELAY", ConstantValue::Duration(DEFAULT_RETRY_BASE_DELAY), "The first backoff step."),
    (
        "DEFAULT_MAX_RESPONSE_BYTES",
        ConstantValue::Int(DEFAULT_MAX_RESPONSE_BYTES as u64),
        "Larger answers are refused.",
    ),
    (
        "DEFAULT_MAX_CONNECTIONS",
        ConstantValue::Int(DEFAULT_MAX_CONNECTIONS as u64),
        "Connections in flight per client; calls beyond it wait.",
    ),
];

/// A Messenger thread-control and conversations client for one Page.
///
/// Cheap to clone: clones share one connection pool and one view of the
/// rate-limit usage.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Transport>,
    page_id: Arc<str>,
    api_version: Arc<str>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("page_id", &self.page_id)
            .field("api_version", &self.api_version)
            .field("base_url", &self.base_url())
            .field("access_token", &"[redacted]")
            .finish()
    }
}

/// Builds a [`Client`]; every setting but the token has DESIGN's default.
#[derive(Clone)]
pub struct ClientBuilder {
    access_token: Secret,
    page_id: String,
    app_secret: Option<Secret>,
    api_version: String,
    base_url: String,
    // Kept as given and checked in `build`, so that every rule (and its
    // wording) lives there, whichever language the value came from.
    timeout: Setting<Duration>,
    max_retries: i64,
    max_retry_wait: Setting<Duration>,
    retry_base_delay: Setting<Duration>,
    max_response_bytes: i64,
    max_connections: i64,
}

/// A duration as set: typed (Rust) or a number of seconds (the bindings),
/// checked by `build`.
#[derive(Clone, Copy, Debug)]
enum Setting<T> {
    Value(T),
    Seconds(f64),
}

impl Setting<Duration> {
    fn resolve(self, argument: &'static str) -> Result<Duration> {
        match self {
            Setting::Value(d) => Ok(d),
            Setting::Seconds(s) => validate::seconds(argument, s),
        }
    }
}

/// Saturates any integer into `i64`, so that an out-of-range value stays
/// out of range for `build` to refuse with its own words.
fn wide<N: TryInto<i64>>(n: N, negative: bool) -> i64 {
    n.try_into().unwrap_or(if negative { i64::MIN } else { i64::MAX })
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("page_id", &self.page_id)
            .field("api_version", &self.api_version)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub fn new(access_token: impl Into<String>) -> Self {
        ClientBuilder {
            access_token: Secret::new(access_token.into()),
            page_id: "me".to_owned(),
            app_secret: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Setting::Value(DEFAULT_TIMEOUT),
            max_retries: i64::from(DEFAULT_MAX_RETRIES),
            max_retry_wait: Setting::Value(DEFAULT_MAX_RETRY_WAIT),
            retry_base_delay: Setting::Value(DEFAULT_RETRY_BASE_DELAY),
            max_response_bytes: wide(DEFAULT_MAX_RESPONSE_BYTES, false),
            max_connections: wide(DEFAULT_MAX_CONNECTIONS, false),
        }
    }

    /// The Page's id; `me` (the default) is the Page the token belongs to.
    pub fn page_id(mut self, page_id: impl Into<String>) -> Self {
        self.page_id = page_id.into();
        self
    }

    /// Adds `appsecret_proof` to every call.
    pub fn app_secret(mut self, app_secret: impl Into<String>) -> Self {
        self.app_secret = Some(Secret::new(app_secret.into()));
        self
    }

    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The whole-call timeout, connection included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Setting::Value(timeout);
        self
    }

    /// [`timeout`](Self::timeout) as a number of seconds, checked by `build`
    /// (finite, positive): for callers whose numbers are floats.
    pub fn timeout_secs(mut self, seconds: f64) -> Self {
        self.timeout = Setting::Seconds(seconds);
        self
    }

    /// How many times a failed call may be sent again: 0 to
    /// [`MAX_RETRIES_LIMIT`](crate::validate::MAX_RETRIES_LIMIT) (100).
    pub fn max_retries<N: TryInto<i64> + PartialOrd + Default + Copy>(mut self, n: N) -> Self {
        self.max_retries = wide(n, n < N::default());
        self
    }

    /// A throttled call that would have to wait longer than this fails at
    /// once with `retry_after` set instead of sleeping.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.max_retry_wait = Setting::Value(wait);
        self
    }

    /// [`max_retry_wait`](Self::max_retry_wait) in seconds, checked by `build`.
    pub fn max_retry_wait_secs(mut self, seconds: f64) -> Self {
        self.max_retry_wait = Setting::Seconds(seconds);
        self
    }

    /// The first backoff step (later ones double, with full jitter).
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.retry_base_delay = Setting::Value(delay);
        self
    }

    /// [`retry_base_delay`](Self::retry_base_delay) in seconds, checked by `build`.
    pub fn retry_base_delay_secs(mut self, seconds: f64) -> Self {
        self.retry_base_delay = Setting::Seconds(seconds);
        self
    }

    /// The largest answer read (at least 1 byte); a larger one is refused.
    pub fn max_response_bytes<N: TryInto<i64> + PartialOrd + Default + Copy>(mut self, n: N) -> Self {
        self.max_response_bytes = wide(n, n < N::default());
        self
    }

    /// The most connections this client (and its clones) has in flight at
    /// once, default 100; calls beyond it wait for one to free up.
    pub fn max_connections<N: TryInto<i64> + PartialOrd + Default + Copy>(mut self, n: N) -> Self {
        self.max_connections = wide(n, n < N::default());
        self
    }

    pub fn build(self) -> Result<Client> {
        if self.access_token.expose().trim().is_empty() {
            return Err(Error::invalid("access_token", "must not be empty"));
        }
        // A proof keyed by an empty secret is one anyone can make (the webhooks refuse one too).
        if self.app_secret.as_ref().is_some_and(|s| s.expose().trim().is_empty()) {
            return Err(Error::invalid("app_secret", "must not be empty (leave it out to send no appsecret_proof)"));
        }
        validate::page_id(&self.page_id)?;
        if !is_api_version(&self.api_version) {
            return Err(Error::invalid("api_version", "must look like v26.0"));
        }
        let timeout = self.timeout.resolve("timeout")?;
        if timeout.is_zero() {
            return Err(Error::out_of_range("timeout", "must be positive"));
        }
        let max_retries = validate::max_retries(self.max_retries)?;
        let max_retry_wait = self.max_retry_wait.resolve("max_retry_wait")?;
        let retry_base_delay = self.retry_base_delay.resolve("retry_base_delay")?;
        let max_response_bytes = validate::max_response_bytes(self.max_response_bytes)?;
        let max_connections = validate::max_connections(self.max_connections)?;
        let base = parse_base_url(&self.base_url)?;
        let page_url = base
            .join(&format!("{}/{}/", self.api_version, self.page_id))
            .map_err(|_| Error::invalid("base_url", "cannot be a base URL"))?;
        let http = crate::transport::http_client(timeout, max_connections)?;
        let proof = self
            .app_secret
            .as_ref()
            .map(|s| hmac_sha256_hex(s.expose().as_bytes(), self.access_token.expose().as_bytes()));
        let retry = RetryPolicy {
            max_retries,
            max_retry_wait,
            base_delay: retry_base_delay,
            max_delay: Duration::from_secs(30),
        };
        let transport =
            Transport::new(http, page_url, self.access_token, proof, retry, max_response_bytes, max_connections)?;
        Ok(Client { inner: Arc::new(transport), page_id: self.page_id.into(), api_version: self.api_version.into() })
    }
}

fn is_api_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let mut parts = rest.split('.');
    let ok =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// https anywhere; plain http only to this machine, so a token can never
/// cross a network in clear.
fn parse_base_url(raw: &str) -> Result<Url> {
    // url's messages never quote the input; ours do not either (it could be
    // a token pasted in the wrong place).
    let mut url = Url::parse(raw).map_err(|e| Error::invalid("base_url", format!("is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        // Only the name itself: `*.localhost` may be sent to DNS by the resolver.
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid("base_url", "plain http:// is refused except to loopback hosts; use https://"))
        }
        _ => return Err(Error::invalid("base_url", "must be an https:// (or loopback http://) URL")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("base_url", "must not carry a query, fragment or credentials"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[derive(Deserialize)]
pub(crate) struct DataList<T> {
    pub(crate) data: Vec<T>,
}

impl Client {
    pub fn builder(access_token: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(access_token)
    }

    /// A client with every default (the Page the token belongs to).
    pub fn new(access_token: impl Into<String>) -> Result<Client> {
        ClientBuilder::new(access_token).build()
    }

    pub fn page_id(&self) -> &str {
        &self.page_id
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The base URL calls go to (without the version and Page).
    pub fn base_url(&self) -> String {
        let mut url = self.inner.page_url.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().pop().pop();
        }
        url.as_str().trim_end_matches('/').to_owned()
    }

    /// Closes the client and every clone of it (pagers included): the
    /// connection pool is released, calls in flight finish, and later calls
    /// fail with a `transport` error without sending anything.
    pub fn close(&self) {
        self.inner.close();
    }

    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The usage headers of the last response, when it had any.
    pub fn last_usage(&self) -> Option<Usage> {
        self.inner.last_usage()
    }

    pub(crate) async fn get(&self, edge: &str, query: &[(&str, &str)]) -> Result<Vec<u8>> {
        self.inner.execute(&Call { method: Method::GET, edge, query, body: None }).await
    }

    async fn post_success(&self, edge: &str, body: Value) -> Result<()> {
        let body = serde_json::to_vec(&body).map_err(|e| Error::invalid("metadata", e.to_string()))?;
        let answer = self.inner.execute(&Call { method: Method::POST, edge, query: &[], body: Some(body) }).await?;
        parse_success(edge, &answer)
    }

    /// Which app controls the thread with this user, or `None` when the
    /// thread is idle (Conversation Routing).
    pub async fn thread_owner(&self, psid: &str) -> Result<Option<ThreadOwner>> {
        validate::psid(psid)?;
        let body = self.get("thread_owner", &[("recipient", psid)]).await?;
        parse_thread_owner(&body)
    }

    /// Passes the thread to another app (`target_app_id`, digits only).
    pub async fn pass_thread_control(&self, psid: &str, target_app_id: &str, metadata: Option<&str>) -> Result<()> {
        validate::psid(psid)?;
        validate::app_id("target_app_id", target_app_id)?;
        validate::metadata(metadata)?;
        let mut body = json!({ "recipient": { "id": psid }, "target_app_id": target_app_id });
        if let Some(m) = metadata {
            body["metadata"] = Value::from(m);
        }
        self.post_success("pass_thread_control", body).await
    }

    /// Hands the chat to the people answering in the Page Inbox.
    pub async fn pass_thread_control_to_page_inbox(&self, psid: &str, metadata: Option<&str>) -> Result<()> {
        self.pass_thread_control(psid, PAGE_INBOX_APP_ID, metadata).await
    }

    pub async fn take_thread_control(&self, psid: &str, metadata: Option<&str>) -> Result<()> {
        self.simple_control("take_thread_control", psid, metadata).await
    }

    pub async fn request_thread_control(&self, psid: &str, metadata: Option<&str>) -> Result<()> {
        self.simple_control("request_thread_control", psid, metadata).await
    }

    pub async fn release_thread_control(&self, psid: &str, metadata: Option<&str>) -> Result<()> {
        self.simple_control("release_thread_control", psid, metadata).await
    }

    /// Extends the owner's control of the thread (Conversation Routing), by
    /// whole seconds, at most 7 days.
    pub async fn extend_thread_control(&self, psid: &str, duration: Duration) -> Result<()> {
        validate::psid(psid)?;
        if duration.subsec_nanos() != 0 {
            return Err(Error::out_of_range("duration", "must be a whole number"));
        }
        validate::duration(duration.as_secs())?;
        let body = json!({ "recipient": { "id": psid }, "duration": duration.as_secs() });
        self.post_success("extend_thread_control", body).await
    }

    async fn simple_control(&self, edge: &str, psid: &str, metadata: Option<&str>) -> Result<()> {
        validate::psid(psid)?;
        validate::metadata(metadata)?;
        let mut body = json!({ "recipient": { "id": psid } });
        if let Some(m) = metadata {
            body["metadata"] = Value::from(m);
        }
        self.post_success(edge, body).await
    }

    /// The apps that hold a role on the Page besides the caller.
    pub async fn secondary_receivers(&self) -> Result<Vec<App>> {
        let body = self.get("secondary_receivers", &[("fields", "id,name")]).await?;
        let list: DataList<App> = parse_json(&body)?;
        Ok(list.data)
    }
}

pub(crate) fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("the answer is not the expected JSON: {}", crate::json::describe(&e)), Some(200))
    })
}

/// A thread-control answer: `{"success": true}`; anything else is a failure.
pub(crate) fn parse_success(edge: &str, answer: &[u8]) -> Result<()> {
    let parsed: Value = parse_json(answer)?;
    match parsed.get("success") {
        Some(Value::Bool(true)) => Ok(()),
        Some(Value::Bool(false)) => Err(Error::protocol(
            format!("the Graph API answered {{\"success\": false}} to {edge}: the call did not take effect"),
            Some(200),
        )),
        _ => Err(Error::protocol(format!("the answer to {edge} has no \"success\" field"), Some(200))),
    }
}

pub(crate) fn parse_thread_owner(body: &[u8]) -> Result<Option<ThreadOwner>> {
    #[derive(Deserialize)]
    struct Owner {
        #[serde(deserialize_with = "crate::json::id_string")]
        app_id: String,
        #[serde(default, deserialize_with = "crate::json::opt_time")]
        expiration: Option<chrono::DateTime<chrono::Utc>>,
    }
    #[derive(Deserialize)]
    struct Entry {
        // Conversation Routing names the owner only to the owner and the
        // default app; any other app gets `expiration` alone (routing.rs).
        #[serde(default)]
        thread_owner: Option<Owner>,
        #[serde(default, deserialize_with = "crate::json::opt_time")]
        expiration: Option<chrono::DateTime<chrono::Utc>>,
    }
    let list: DataList<Entry> = parse_json(body)?;
    let Some(e) = list.data.into_iter().next() else { return Ok(None) };
    match e.thread_owner {
        Some(owner) => Ok(Some(ThreadOwner {
            app_id: owner.app_id,
            // Seen both beside and inside `thread_owner`.
            expiration: e.expiration.or(owner.expiration),
        })),
        None if e.expiration.is_some() => Ok(Some(ThreadOwner { app_id: String::new(), expiration: e.expiration })),
        None => Err(Error::protocol("a thread_owner answer names neither an owner nor an expiration", Some(200))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_app_secret_is_refused() {
        for secret in ["", "  "] {
            let err = Client::builder("EAAtoken").app_secret(secret).build().unwrap_err();
            assert!(matches!(err, Error::InvalidInput { argument: "app_secret", .. }), "{err}");
        }
        assert!(Client::builder("EAAtoken").app_secret("s3cret").build().is_ok());
    }

    #[test]
    fn thread_owner_quirks() {
        let owner = parse_thread_owner(br#"{"data":[{"thread_owner":{"app_id":263902037430900}}]}"#);
        assert_eq!(owner.ok().flatten().map(|o| o.app_id), Some("263902037430900".to_owned()));
        assert!(matches!(parse_thread_owner(br#"{"data":[]}"#), Ok(None)));
        let with_exp = parse_thread_owner(
            br#"{"data":[{"thread_owner":{"app_id":"1"},"expiration":"2026-11-22T12:00:00+0000"}]}"#,
        );
        assert!(with_exp.ok().flatten().and_then(|o| o.expiration).is_some());
        assert!(parse_thread_owner(b"<html>").is_err());
        assert!(parse_thread_owner(br#"{"data":[{"nope":1}]}"#).is_err());
        let hidden = parse_thread_owner(br#"{"data":[{"expiration":"2026-11-22T12:00:00+0000"}]}"#);
        assert!(hidden.ok().flatten().is_some_and(|o| o.app_id.is_empty() && o.expiration.is_some()));
    }

    #[test]
    fn base_url_rules() {
        assert!(parse_base_url("http://127.0.0.1:9").is_ok());
        assert!(parse_base_url("http://localhost:9").is_ok());
        assert!(parse_base_url("http://[::1]:9").is_ok());
        assert!(parse_base_url("https://graph.facebook.com").is_ok());
        assert!(parse_base_url("http://graph.facebook.com").is_err());
        assert!(parse_base_url("http://10.0.0.1").is_err());
        assert!(parse_base_url("http://evil.localhost").is_err());
        assert!(parse_base_url("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn debug_hides_token() {
        let c = Client::builder("EAAGsecret-token-value").build();
        assert!(c.is_ok());
        if let Ok(c) = c {
            assert!(!format!("{c:?}").contains("secret-token"));
            assert_eq!(c.base_url(), "https://graph.facebook.com");
        }
    }
}
