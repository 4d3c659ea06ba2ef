//! Sends one Graph call: URL, auth, retries, size cap, usage headers, and
//! turning whatever came back into bytes or an [`Error`].

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use bytes_helper::read_capped;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use tokio::sync::{watch, Semaphore};
use url::Url;

use tracing::Instrument;

use crate::error::{Error, ErrorKind, GraphError, GraphErrorBody, Result, TransportFailure};
use crate::observe;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::usage::Usage;

/// What every call of one client shares: the connection pool, the
/// credentials and what the Graph API last said about our usage.
pub(crate) struct Transport {
    /// `None` once the client is closed: the pool goes with it, and every
    /// clone (pagers included) stops sending.
    http: std::sync::RwLock<Option<reqwest::Client>>,
    /// `{base_url}/{api_version}/{page_id}/`, edges are pushed onto it.
    pub(crate) page_url: Url,
    pub(crate) token: Secret,
    auth_header: HeaderValue,
    appsecret_proof: Option<String>,
    pub(crate) retry: RetryPolicy,
    max_response_bytes: usize,
    last_usage: Mutex<Option<Usage>>,
    /// Set when the usage headers say we are throttled: calls wait or fail
    /// before sending instead of making the throttling worse.
    throttled_until: Mutex<Option<Instant>>,
    /// One permit per connection in flight: calls beyond the cap queue here
    /// instead of opening a socket each (10,000 concurrent calls opened
    /// 9,298 sockets to one host before).
    connections: Semaphore,
    /// Flips to true on `close()`: wakes every call asleep in a backoff or
    /// throttle wait, so none outlives the client.
    closed: watch::Sender<bool>,
}

/// What an attempt learnt of the answer before it became a body or an error.
#[derive(Default)]
struct Seen {
    status: Option<u16>,
    usage: Option<Usage>,
    fbtrace_id: Option<String>,
}

/// The Graph API names every answer's trace in this header, errors or not.
const FB_TRACE_ID: &str = "x-fb-trace-id";

/// A call to make: one edge of the Page, its query and JSON body.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub edge: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Vec<u8>>,
}

/// The `edge` of a Graph batch request: POST to the API root with a
/// form-encoded `batch=[...]` (see `batch.rs`).
pub(crate) const BATCH_EDGE: &str = "/";
const FORM: &str = "application/x-www-form-urlencoded";

/// How long we pause when usage reaches 100% without a regain time: the
/// Graph API counts regain time in whole minutes.
const FULL_USAGE_PAUSE: Duration = Duration::from_secs(60);

/// The longest throttle we keep a deadline for; anything longer (a regain
/// time of 1e308 minutes) is as good as forever and would overflow `Instant`.
const LONGEST_PAUSE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The HTTP client every call of one `Client` shares. Redirects are never
/// followed: the Graph API does not redirect API calls, and following one
/// would take another host's answer for Graph's and re-send a POST body
/// (with PSIDs and metadata) to it. A 3xx becomes a `protocol` error.
pub(crate) fn http_client(timeout: Duration, max_connections: usize) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(max_connections)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(concat!("messenger-handover/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::invalid("client", format!("cannot set up HTTP: {e}")))
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        page_url: Url,
        token: Secret,
        appsecret_proof: Option<String>,
        retry: RetryPolicy,
        max_response_bytes: usize,
        max_connections: usize,
    ) -> Result<Self> {
        let mut auth_header = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| Error::invalid("access_token", "contains characters not allowed in an HTTP header"))?;
        // Keeps the token out of reqwest's and hyper's own Debug output.
        auth_header.set_sensitive(true);
        Ok(Transport {
            http: std::sync::RwLock::new(Some(http)),
            page_url,
            token,
            auth_header,
            appsecret_proof,
            retry,
            max_response_bytes,
            last_usage: Mutex::new(None),
            throttled_until: Mutex::new(None),
            connections: Semaphore::new(max_connections),
            closed: watch::Sender::new(false),
        })
    }

    /// Drops the connection pool; calls in flight finish, calls waiting for
    /// a connection, a backoff or a throttle end at once, later ones fail.
    pub(crate) fn close(&self) {
        self.http.write().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        self.connections.close();
        self.closed.send_replace(true);
    }

    /// Sleeps, unless the client is closed first: then the closed error.
    pub(crate) async fn pause(&self, wait: Duration) -> Result<()> {
        let mut closed = self.closed.subscribe();
        tokio::select! {
            () = tokio::time::sleep(wait) => Ok(()),
            _ = closed.wait_for(|c| *c) => Err(closed_error()),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.http.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_none()
    }

    pub(crate) fn last_usage(&self) -> Option<Usage> {
        lock(&self.last_usage).clone()
    }

    /// Sends the call, retrying as DESIGN's rules allow, and returns the
    /// body of the successful answer.
    pub(crate) async fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>> {
        let idempotent = call.method == Method::GET;
        let mut attempt: u32 = 0;
        loop {
            self.wait_out_throttle().await?;
            let err = match self.attempt(call, attempt).await {
                Ok(body) => return Ok(body),
                Err(err) => err,
            };
            let retry_after = err.graph().and_then(|g| g.retry_after);
            if let Some(wait) = retry_after {
                if wait > self.retry.max_retry_wait {
                    // Waiting that long inside a call helps nobody: say when.
                    return Err(err);
                }
            }
            if attempt >= self.retry.max_retries || !RetryPolicy::should_retry(&err, idempotent) {
                return Err(err);
            }
            let wait = retry_after.unwrap_or_else(|| self.retry.backoff(attempt));
            self.retry_event(call, err.kind().as_str(), attempt + 1, wait, None);
            self.pause(wait).await?;
            attempt += 1;
        }
    }

    /// One attempt, after any throttle wait: for callers that retry
    /// themselves (a batch retries item by item). `resend` is how many times
    /// the caller sent this call before: what the attempt's span reports.
    pub(crate) async fn execute_once(&self, call: &Call<'_>, resend: u32) -> Result<Vec<u8>> {
        self.wait_out_throttle().await?;
        self.attempt(call, resend).await
    }

    /// The retry event (see `observe`): the call is sent again, for the
    /// `resend`th time, in `wait`, after an error of kind `kind`.
    /// `operations`: how many operations of a batch request go again.
    pub(crate) fn retry_event(
        &self,
        call: &Call<'_>,
        kind: &str,
        resend: u32,
        wait: Duration,
        operations: Option<usize>,
    ) {
        let wait_ms = wait.as_millis() as u64;
        let path = self.path_of(call);
        let path = path.as_deref().unwrap_or("");
        tracing::event!(
            name: "http.retry",
            target: observe::TARGET,
            tracing::Level::WARN,
            http.request.method = call.method.as_str(),
            url.path = path,
            error.type = kind,
            http.request.resend_count = resend,
            graph.wait_ms = wait_ms,
            graph.batch.operations = operations,
            "retrying {} {path} in {wait_ms} ms after a {kind} error{}",
            call.method,
            operations.map(|n| format!(" ({n} batch operation{})", if n == 1 { "" } else { "s" })).unwrap_or_default(),
        );
    }

    /// The path a call goes to, without the query: what the attempt's span
    /// and events name (the query may hold the appsecret_proof).
    fn path_of(&self, call: &Call<'_>) -> Option<String> {
        self.url_for(call).ok().map(|u| u.path().to_owned())
    }

    /// One HTTP attempt inside its span (see `observe`); `resend` is how many
    /// times this call was sent before.
    async fn attempt(&self, call: &Call<'_>, resend: u32) -> Result<Vec<u8>> {
        let url = self.url_for(call)?;
        let method = call.method.as_str();
        let path = url.path();
        let host = url.host_str().unwrap_or("");
        let port = url.port_or_known_default();
        // OpenTelemetry sets the resend count only on a resend.
        let resend = (resend > 0).then_some(resend);
        let span = tracing::debug_span!(
            target: observe::TARGET,
            observe::SPAN,
            otel.name = method,
            otel.kind = "client",
            http.request.method = method,
            url.path = path,
            server.address = host,
            server.port = port,
            http.request.resend_count = resend,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
            graph.fbtrace_id = tracing::field::Empty,
            graph.usage.call_count = tracing::field::Empty,
            graph.usage.total_cputime = tracing::field::Empty,
            graph.usage.total_time = tracing::field::Empty,
        );
        let id = observe::next_attempt_id();
        // The start and end events name the request alike.
        macro_rules! attempt_event {
            ($name:literal, $level:expr, $($rest:tt)*) => {
                tracing::event!(
                    name: $name,
                    target: observe::TARGET,
                    $level,
                    graph.attempt_id = id,
                    http.request.method = method,
                    url.path = path,
                    server.address = host,
                    server.port = port,
                    http.request.resend_count = resend,
                    $($rest)*
                )
            };
        }
        let _enter = span.enter();
        attempt_event!("http.attempt.start", tracing::Level::TRACE, "{method} {path}");
        drop(_enter);
        let started = Instant::now();
        let mut seen = Seen::default();
        let result = self.send_once(call, url.clone(), &mut seen).instrument(span.clone()).await;
        if let Err(err) = &result {
            let graph = err.graph();
            seen.status = seen.status.or_else(|| graph.map(|g| g.http_status).filter(|s| *s > 0));
            seen.fbtrace_id = graph.and_then(|g| g.fbtrace_id.clone()).or(seen.fbtrace_id);
        }
        let error_type = result.as_ref().err().map(|e| e.kind().as_str());
        let figure = |f: fn(&crate::usage::UsageFigures) -> f64, b: fn(&crate::usage::BusinessUseCaseUsage) -> f64| {
            seen.usage.as_ref().map(|u| {
                u.app.iter().chain(u.page.iter()).map(f).chain(u.business_use_case.iter().map(b)).fold(0.0, f64::max)
            })
        };
        let call_count = figure(|u| u.call_count, |b| b.call_count);
        let cputime = figure(|u| u.total_cputime, |b| b.total_cputime);
        let total_time = figure(|u| u.total_time, |b| b.total_time);
        span.record("http.response.status_code", seen.status);
        span.record("error.type", error_type);
        span.record("graph.fbtrace_id", seen.fbtrace_id.as_deref());
        span.record("graph.usage.call_count", call_count);
        span.record("graph.usage.total_cputime", cputime);
        span.record("graph.usage.total_time", total_time);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let _enter = span.enter();
        attempt_event!(
            "http.attempt.end",
            tracing::Level::DEBUG,
            http.response.status_code = seen.status,
            error.type = error_type,
            graph.fbtrace_id = seen.fbtrace_id.as_deref(),
            graph.usage.call_count = call_count,
            graph.usage.total_cputime = cputime,
            graph.usage.total_time = total_time,
            graph.duration_ms = elapsed_ms,
            "{method} {path} -> {}{} in {elapsed_ms} ms{}",
            seen.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            error_type.map(|k| format!(" ({k})")).unwrap_or_default(),
            seen.fbtrace_id.as_deref().map(|t| format!(" fbtrace_id={t}")).unwrap_or_default(),
        );
        result
    }

    pub(crate) async fn wait_out_throttle(&self) -> Result<()> {
        let until = *lock(&self.throttled_until);
        let Some(until) = until else { return Ok(()) };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        let wait = until - now;
        if wait > self.retry.max_retry_wait {
            return Err(client_throttle_error(wait, self.last_usage()));
        }
        let wait_ms = wait.as_millis() as u64;
        tracing::event!(
            name: "http.throttle_wait",
            target: observe::TARGET,
            tracing::Level::WARN,
            graph.wait_ms = wait_ms,
            graph.usage.call_count = self.last_usage().map(|u| u.max_call_count()),
            "usage at the limit: waiting {wait_ms} ms before sending"
        );
        self.pause(wait).await
    }

    fn url_for(&self, call: &Call<'_>) -> Result<Url> {
        let mut url = self.page_url.clone();
        {
            let mut segs = url.path_segments_mut().map_err(|_| Error::invalid("base_url", "cannot be a base URL"))?;
            segs.pop_if_empty();
            match call.edge {
                // The Page node itself (`GET /{page}?fields=...`).
                "" => {}
                // Graph batch requests go to the API root, `{base_url}/`.
                BATCH_EDGE => {
                    segs.pop().pop().push("");
                }
                // `/{node}/{edge}`: an edge of another node (a conversation's messages), beside the Page.
                edge => match edge.strip_prefix('/') {
                    Some(path) => {
                        segs.pop().extend(path.split('/'));
                    }
                    None => {
                        segs.push(edge);
                    }
                },
            }
        }
        if !call.query.is_empty() || self.appsecret_proof.is_some() {
            let mut pairs = url.query_pairs_mut();
            pairs.extend_pairs(call.query.iter());
            if let Some(proof) = &self.appsecret_proof {
                pairs.append_pair("appsecret_proof", proof);
            }
        }
        Ok(url)
    }

    async fn send_once(&self, call: &Call<'_>, url: Url, seen: &mut Seen) -> Result<Vec<u8>> {
        // Held until the body is read: the connection is busy until then.
        let _connection = self.connections.acquire().await.map_err(|_| closed_error())?;
        let http =
            self.http.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone().ok_or_else(closed_error)?;
        let mut request = http.request(call.method.clone(), url).header(AUTHORIZATION, self.auth_header.clone());
        if let Some(body) = &call.body {
            let content_type = if call.edge == BATCH_EDGE { FORM } else { "application/json" };
            request = request.header(CONTENT_TYPE, HeaderValue::from_static(content_type)).body(body.clone());
        }
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        // Every string a response's headers carry is redacted here, before it
        // reaches a log line, a span, `last_usage` or an error: a hostile or
        // broken server may echo the token in any of them.
        let usage = Usage::from_headers(response.headers()).map(|u| self.token.redact_usage(u));
        seen.status = Some(status.as_u16());
        seen.usage = usage.clone();
        seen.fbtrace_id =
            response.headers().get(FB_TRACE_ID).and_then(|v| v.to_str().ok()).map(|v| shown(&self.token, v));
        let retry_after_header = retry_after(response.headers());
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if let Some(u) = &usage {
            self.note_usage(u);
        }
        if status.is_redirection() {
            // Never followed (see `http_client`); the Location is not echoed.
            return Err(Error::protocol(
                format!(
                    "HTTP {} redirect: the Graph API does not redirect API calls, so it was not followed",
                    status.as_u16()
                ),
                Some(status.as_u16()),
            ));
        }
        let body = read_capped(response, self.max_response_bytes).await.map_err(|e| match e {
            ReadError::TooLarge => Error::protocol(
                format!("response is larger than the {} byte cap", self.max_response_bytes),
                Some(status.as_u16()),
            ),
            ReadError::Http(e) => self.transport_error(e),
        })?;
        if status.is_success() {
            return Ok(body);
        }
        Err(error_from(&self.token, status.as_u16(), &content_type, &body, usage, retry_after_header))
    }

    pub(crate) fn note_usage(&self, usage: &Usage) {
        *lock(&self.last_usage) = Some(usage.clone());
        let pause = usage
            .regain_access_in()
            .or_else(|| (usage.business_use_case.iter().any(|b| b.call_count >= 100.0)).then_some(FULL_USAGE_PAUSE));
        let now = Instant::now();
        let mut until = lock(&self.throttled_until);
        // Only ever lengthen a throttle still running: responses to calls sent
        // together arrive in any order, and a success processed after a
        // throttling answer (its usage read before the limit was hit) must not
        // lift the pause the later answer asked for.
        let current = until.filter(|u| *u > now);
        let asked = pause.map(|p| now + p.min(LONGEST_PAUSE));
        *until = current.max(asked);
    }

    fn transport_error(&self, err: reqwest::Error) -> Error {
        let failure = if err.is_timeout() {
            TransportFailure::Timeout
        } else if err.is_connect() {
            TransportFailure::Connect
        } else {
            TransportFailure::Other
        };
        // reqwest puts the URL in its messages; ours carry no token, but the
        // message does not need it either.
        let err = err.without_url();
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        Error::Transport { failure, message: self.token.redact(&message) }
    }
}

/// Turns a non-2xx answer into the right [`Error`]: a Graph error body is
/// mapped by its code; any other 5xx (an HTML 502 page from a proxy) is a
/// `server` error (DESIGN's error table); any other body is `protocol`.
pub(crate) fn error_from(
    token: &Secret,
    http_status: u16,
    content_type: &str,
    body: &[u8],
    usage: Option<Usage>,
    retry_after_header: Option<Duration>,
) -> Error {
    // The content type comes from the response: bounded and redacted.
    let content_type = shown(token, content_type);
    let what = if content_type.is_empty() { "no content type" } else { content_type.as_str() };
    match serde_json::from_slice::<GraphErrorBody>(body) {
        Ok(parsed) => {
            let mut graph = parsed.error.into_error(http_status);
            // Every string of the body, not only `message`: a hostile or
            // broken server may echo the token in any of them.
            graph.message = token.redact(&graph.message);
            for text in [&mut graph.error_type, &mut graph.fbtrace_id, &mut graph.user_title, &mut graph.user_message]
                .into_iter()
                .flatten()
            {
                *text = token.redact(text);
            }
            let usage = usage.map(|u| token.redact_usage(u));
            // Retry-After is honoured on any answer (a 503 may carry it);
            // the Business Use Case regain time only explains throttling.
            graph.retry_after = match graph.kind {
                ErrorKind::RateLimit => retry_after_header.or_else(|| usage.as_ref().and_then(Usage::regain_access_in)),
                _ => retry_after_header,
            };
            graph.usage = usage;
            Error::Graph(Box::new(graph))
        }
        Err(_) if http_status >= 500 => Error::Graph(Box::new(GraphError {
            kind: ErrorKind::Server,
            message: format!("HTTP {http_status} with a body that is not a Graph error ({what}, {} bytes)", body.len()),
            error_type: None,
            code: 0,
            subcode: None,
            fbtrace_id: None,
            http_status,
            is_transient: true,
            user_title: None,
            user_message: None,
            hint: None,
            retry_after: retry_after_header,
            usage,
        })),
        Err(_) => Error::protocol(
            format!("HTTP {http_status} with a body that is not a Graph error ({what}, {} bytes)", body.len()),
            Some(http_status),
        ),
    }
}

/// A header's text as shown in an error or a log line: redacted, then
/// bounded (bounding first could cut the token and leave its start).
fn shown(token: &Secret, header: &str) -> String {
    token.redact(header).chars().take(100).collect()
}

fn closed_error() -> Error {
    Error::Transport { failure: TransportFailure::Closed, message: "the client is closed".to_owned() }
}

fn client_throttle_error(wait: Duration, usage: Option<Usage>) -> Error {
    Error::Graph(Box::new(GraphError {
        kind: ErrorKind::RateLimit,
        message: format!(
            "not sent: the Graph API reported this app or Page at its rate limit; calls resume in about {} s",
            wait.as_secs()
        ),
        error_type: Some("ClientThrottle".to_owned()),
        code: 0,
        subcode: None,
        fbtrace_id: None,
        http_status: 0,
        is_transient: true,
        user_title: None,
        user_message: None,
        retry_after: Some(wait),
        usage,
        hint: None,
    }))
}

/// `Retry-After` as a wait: delay-seconds or an HTTP-date (RFC 9110,
/// section 10.2.3). A value too large for a `Duration` (1e30), negative or
/// unreadable is `Duration::MAX`: longer than any `max_retry_wait`, so the
/// call fails at once rather than retrying without a wait.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?;
    let Some(text) = value.to_str().ok().map(str::trim) else { return Some(Duration::MAX) };
    if let Ok(seconds) = text.parse::<f64>() {
        // try_from: a header of 1e30 seconds must not panic (found by fuzzing).
        return Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    match httpdate::parse_http_date(text) {
        Ok(when) => Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)),
        Err(_) => Some(Duration::MAX),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave these plain values half-written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) enum ReadError {
    TooLarge,
    Http(reqwest::Error),
}

mod bytes_helper {
    use super::ReadError;

    /// Reads the body, refusing it as soon as it passes `cap` bytes rather
    /// than buffering whatever a server sends.
    pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(ReadError::TooLarge);
        }
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
            if body.len() + chunk.len() > cap {
                return Err(ReadError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
