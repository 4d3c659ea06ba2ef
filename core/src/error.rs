//! One error type for every failure, with a stable `kind()` string that the
//! Python and Node bindings map onto their exception classes.

use std::time::Duration;

use serde::Deserialize;

use crate::usage::Usage;

/// The stable, cross-language name of a failure class (DESIGN, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidParameter,
    Auth,
    Permission,
    ThreadControl,
    RateLimit,
    Blocked,
    Server,
    Transport,
    Protocol,
    InvalidInput,
}

impl ErrorKind {
    /// Every kind, in declaration order: for code that must cover them all
    /// (the CLI's exit codes, tests that provoke each one).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::InvalidParameter,
        ErrorKind::Auth,
        ErrorKind::Permission,
        ErrorKind::ThreadControl,
        ErrorKind::RateLimit,
        ErrorKind::Blocked,
        ErrorKind::Server,
        ErrorKind::Transport,
        ErrorKind::Protocol,
        ErrorKind::InvalidInput,
    ];

    /// The string every language exposes as `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::ThreadControl => "thread_control",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Blocked => "blocked",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Protocol => "protocol",
            ErrorKind::InvalidInput => "invalid_input",
        }
    }

    /// Maps a Graph error to its kind, exactly as DESIGN's table says. The
    /// order matters: thread-control subcodes win over their generic codes,
    /// and throttling wins over `is_transient`.
    pub fn classify(code: i64, subcode: Option<i64>, is_transient: bool, http_status: u16) -> Self {
        const THREAD_CONTROL_PAIRS: [(i64, i64); 3] = [(10, 2018300), (100, 2018234), (100, 2534037)];
        // 27: take without Conversation Routing (see hints.rs).
        const THREAD_CONTROL_CODES: [i64; 3] = [2018171, 2018321, 27];
        if let Some(sub) = subcode {
            if THREAD_CONTROL_PAIRS.contains(&(code, sub)) || THREAD_CONTROL_CODES.contains(&sub) {
                return ErrorKind::ThreadControl;
            }
        }
        if THREAD_CONTROL_CODES.contains(&code) {
            return ErrorKind::ThreadControl;
        }
        match code {
            4 | 17 | 32 | 341 | 613 | 80001..=80014 => ErrorKind::RateLimit,
            102 | 190 => ErrorKind::Auth,
            368 => ErrorKind::Blocked,
            3 | 10 | 200..=299 | 551 => ErrorKind::Permission,
            1 | 2 | 1200 => ErrorKind::Server,
            _ if is_transient || http_status >= 500 => ErrorKind::Server,
            _ => ErrorKind::InvalidParameter,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the Graph API returned, with every field it sent kept.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub kind: ErrorKind,
    pub message: String,
    pub error_type: Option<String>,
    /// The Graph error code; 0 (with `http_status` 0 and type
    /// `ClientThrottle`) when the client refused to send because the usage
    /// headers said the app or Page is at its limit.
    pub code: i64,
    pub subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// The HTTP status of the answer; 0 when nothing was sent.
    pub http_status: u16,
    pub is_transient: bool,
    pub user_title: Option<String>,
    pub user_message: Option<String>,
    /// How long the Graph API asked us to wait (`Retry-After`, or the
    /// Business Use Case `estimated_time_to_regain_access`).
    pub retry_after: Option<Duration>,
    /// The usage headers of the response that carried this error.
    pub usage: Option<Usage>,
    /// For a `thread_control` error: one short sentence on what to do
    /// (`hints::THREAD_CONTROL_HINTS`); also ends the Display text.
    pub hint: Option<&'static str>,
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.http_status == 0 {
            // Refused client-side (usage at its limit): no Graph answer to cite.
            return f.write_str(&self.message);
        }
        write!(f, "{} (code {}", self.message, self.code)?;
        if let Some(sub) = self.subcode {
            write!(f, ", subcode {sub}")?;
        }
        write!(f, ", HTTP {}", self.http_status)?;
        if let Some(trace) = &self.fbtrace_id {
            write!(f, ", fbtrace_id {trace}")?;
        }
        f.write_str(")")?;
        match self.hint {
            Some(hint) => write!(f, "; hint: {hint}"),
            None => Ok(()),
        }
    }
}

/// What went wrong on the wire, before a Graph answer could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made: the request was never sent.
    Connect,
    /// No answer within the client's timeout.
    Timeout,
    /// The connection broke after the request may have been sent.
    Other,
    /// The client was closed: nothing was sent.
    Closed,
}

/// Every failure of this crate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// An error returned by the Graph API.
    #[error("Graph API {kind}: {0}", kind = .0.kind)]
    Graph(Box<GraphError>),
    /// The connection failed, timed out or was reset.
    #[error("transport error: {message}")]
    Transport { failure: TransportFailure, message: String },
    /// The answer was not the JSON the endpoint promises.
    #[error("protocol error: {message}")]
    Protocol { message: String, http_status: Option<u16> },
    /// An argument was refused before anything was sent. `message` says
    /// what is wrong without repeating the value (it could be a secret passed
    /// by mistake); `problem` says whether its type, shape or size is wrong,
    /// so each binding picks its language's exception with no table of names.
    #[error("invalid argument `{argument}`: {message}")]
    InvalidInput { argument: &'static str, message: String, problem: InputProblem },
}

/// What is wrong with a refused argument. Python raises `TypeError` for
/// `Type` and `ValueError` otherwise; Node `RangeError` for `Range` and
/// `TypeError` otherwise (Node's own `ERR_INVALID_ARG_VALUE` is a TypeError).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputProblem {
    /// The wrong type of value (a number where a string goes).
    Type,
    /// The right type, the wrong shape (a PSID with a slash, an unknown folder).
    Value,
    /// A number or length outside its bounds.
    Range,
}

impl InputProblem {
    /// The string the invalid-input vectors and the bindings use.
    pub fn as_str(self) -> &'static str {
        match self {
            InputProblem::Type => "type",
            InputProblem::Value => "value",
            InputProblem::Range => "range",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Graph(g) => g.kind,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
        }
    }

    /// The Graph error, when the Graph API returned one.
    pub fn graph(&self) -> Option<&GraphError> {
        match self {
            Error::Graph(g) => Some(g),
            _ => None,
        }
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { failure: TransportFailure::Timeout, .. })
    }

    /// The HTTP status of the answer behind this error, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Graph(g) => Some(g.http_status),
            Error::Protocol { http_status, .. } => *http_status,
            _ => None,
        }
    }

    /// A value of the right type but the wrong shape.
    pub fn invalid(argument: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { argument, message: message.into(), problem: InputProblem::Value }
    }

    /// A number or length out of its bounds.
    pub fn out_of_range(argument: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { argument, message: message.into(), problem: InputProblem::Range }
    }

    /// A value of the wrong type (only the bindings can see one).
    pub fn wrong_type(argument: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { argument, message: message.into(), problem: InputProblem::Type }
    }

    /// For `InvalidInput`: the argument and what is wrong with it.
    pub fn input_problem(&self) -> Option<(&'static str, InputProblem)> {
        match self {
            Error::InvalidInput { argument, problem, .. } => Some((argument, *problem)),
            _ => None,
        }
    }

    pub(crate) fn protocol(message: impl Into<String>, http_status: Option<u16>) -> Self {
        Error::Protocol { message: message.into(), http_status }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

// ------------------------------------------------------------------ the shared surface
//
// The error classes every language exposes, written once. `cargo run -p
// xtask -- gen` renders them into Python (`errors.py`) and Node (`errors.js`,
// `errors.d.ts`); `make test` fails when a committed file differs.

/// The type of an error attribute, for the generated stubs and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Int,
    Float,
    Bool,
    /// A JSON object (the usage headers).
    Usage,
}

/// One attribute of an error class, named in snake_case (Node shows it in
/// camelCase).
#[derive(Debug, Clone, Copy)]
pub struct ErrorField {
    pub name: &'static str,
    pub ty: FieldType,
    pub doc: &'static str,
}

/// One error class: the same name, parent, kind, attributes and docstring in
/// every language.
#[derive(Debug, Clone, Copy)]
pub struct ErrorClass {
    pub name: &'static str,
    pub parent: Option<&'static str>,
    /// The `kind` its instances carry; `None`: the parent's.
    pub kind: Option<&'static str>,
    pub doc: &'static str,
    /// Attributes this class adds to its parent's.
    pub fields: &'static [ErrorField],
    /// Python builtins it also derives from, so `except TimeoutError` (or
    /// `ValueError` for webhooks) keeps working.
    pub python_builtins: &'static [&'static str],
}

/// The `kind` of an error made without one (by user code).
pub const DEFAULT_ERROR_KIND: &str = "handover";

const fn field(name: &'static str, ty: FieldType, doc: &'static str) -> ErrorField {
    ErrorField { name, ty, doc }
}

const GRAPH_FIELDS: &[ErrorField] = &[
    field("code", FieldType::Int, "The Graph error code (0 when the client refused to send: usage at its limit)."),
    field("subcode", FieldType::Int, "The Graph `error_subcode`, when there is one."),
    field("type", FieldType::Str, "The Graph error type, e.g. `OAuthException`."),
    field("fbtrace_id", FieldType::Str, "Meta's trace id: quote it to Meta's support."),
    field("http_status", FieldType::Int, "The HTTP status of the answer (0 when nothing was sent)."),
    field("is_transient", FieldType::Bool, "The Graph API's own hint that trying again may work."),
    field("graph_message", FieldType::Str, "The Graph API's own message, without the code summary."),
    field("user_title", FieldType::Str, "The Graph API's title meant for end users."),
    field("user_message", FieldType::Str, "The Graph API's text meant for end users."),
];

const fn graph(name: &'static str, kind: &'static str, doc: &'static str) -> ErrorClass {
    ErrorClass { name, parent: Some("GraphApiError"), kind: Some(kind), doc, fields: &[], python_builtins: &[] }
}

/// Every error class, parents first.
pub const ERROR_CLASSES: &[ErrorClass] = &[
    ErrorClass {
        name: "HandoverError",
        parent: None,
        kind: Some(DEFAULT_ERROR_KIND),
        doc: "The base of every error this library raises for a failed call. `kind` names the failure class, \
              the same string in Rust, Python and Node.",
        fields: &[field("kind", FieldType::Str, "The cross-language failure class, e.g. `thread_control`.")],
        python_builtins: &[],
    },
    ErrorClass {
        name: "GraphApiError",
        parent: Some("HandoverError"),
        kind: None,
        doc: "An error the Graph API returned (`{\"error\": {...}}`), or any HTTP 5xx. The Graph fields live \
              here, not on the base: a transport or protocol failure has no Graph code, and a field that is \
              always null there would only mislead.",
        fields: GRAPH_FIELDS,
        python_builtins: &[],
    },
    graph("InvalidParameterError", "invalid_parameter", "Code 100 and any other HTTP 400 not classified below."),
    graph("AuthError", "auth", "The token is invalid, expired or revoked (codes 102, 190)."),
    graph(
        "PermissionDeniedError",
        "permission",
        "The app or token lacks a permission or role (codes 3, 10, 200-299, 551).",
    ),
    ErrorClass {
        name: "ThreadControlError",
        parent: Some("GraphApiError"),
        kind: Some("thread_control"),
        doc: "The thread is not this app's to act on now (not the owner, idle, no default app). `hint` says \
              what to do, the same sentence in every language.",
        fields: &[field("hint", FieldType::Str, "One short sentence on what to do about it.")],
        python_builtins: &[],
    },
    ErrorClass {
        name: "RateLimitError",
        parent: Some("GraphApiError"),
        kind: Some("rate_limit"),
        doc: "Throttled (codes 4, 17, 32, 341, 613, 80001-80014): `retry_after` says when to try again, `usage` why.",
        fields: &[
            field("retry_after", FieldType::Float, "Seconds to wait before trying again, when known."),
            field("usage", FieldType::Usage, "The usage headers of the throttled answer."),
        ],
        python_builtins: &[],
    },
    graph("BlockedError", "blocked", "The Page or app is blocked from this action (code 368)."),
    graph(
        "ServerError",
        "server",
        "The Graph API failed: codes 1, 2, 1200, `is_transient`, and every HTTP 5xx whatever its body.",
    ),
    ErrorClass {
        name: "TransportError",
        parent: Some("HandoverError"),
        kind: Some("transport"),
        doc: "The connection failed, was reset, or timed out: no Graph answer was read.",
        fields: &[
            field("code", FieldType::Str, "`ECONNREFUSED` (never sent), `ECONNRESET` or `ETIMEDOUT`."),
            field("connected", FieldType::Bool, "Whether a connection was made (the request may have been sent)."),
        ],
        python_builtins: &[],
    },
    ErrorClass {
        name: "TimeoutError",
        parent: Some("TransportError"),
        kind: Some("transport"),
        doc: "No answer within the client's timeout (in Python also a builtin `TimeoutError`).",
        fields: &[],
        python_builtins: &["builtins.TimeoutError"],
    },
    ErrorClass {
        name: "ProtocolError",
        parent: Some("HandoverError"),
        kind: Some("protocol"),
        doc: "A non-5xx answer that is not the JSON the endpoint promises (a truncated body, an HTML 404, \
              `{\"success\": false}`).",
        fields: &[field("http_status", FieldType::Int, "The HTTP status of the answer, if there was one.")],
        python_builtins: &[],
    },
    ErrorClass {
        name: "WebhookError",
        parent: Some("HandoverError"),
        kind: Some("webhook"),
        doc: "A webhook request that cannot be accepted (bad signature or handshake, malformed body). A \
              HandoverError like every failure of this library; in Python also a `ValueError`, as it was.",
        fields: &[field("reason", FieldType::Str, "Why: `signature`, `subscription`, `malformed`, `too_large`, ...")],
        python_builtins: &["ValueError"],
    },
];

impl Error {
    /// The class (of [`ERROR_CLASSES`]) this error is raised as; `None` for
    /// bad arguments, which each language raises as its own type errors.
    pub fn class_name(&self) -> Option<&'static str> {
        if self.is_timeout() {
            return Some("TimeoutError");
        }
        let kind = self.kind().as_str();
        ERROR_CLASSES.iter().find(|c| c.kind == Some(kind)).map(|c| c.name)
    }

    /// The attributes of this error, named as in [`ERROR_CLASSES`], for the
    /// bindings to copy onto their exception objects. `message` is the text
    /// of the exception; the Graph API's own message is `graph_message`.
    pub fn attributes(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::{json, Value};
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), json!(self.kind().as_str()));
        match self {
            Error::Graph(g) => {
                for (k, v) in [
                    ("code", json!(g.code)),
                    ("subcode", json!(g.subcode)),
                    ("type", json!(g.error_type)),
                    ("fbtrace_id", json!(g.fbtrace_id)),
                    ("http_status", json!(g.http_status)),
                    ("is_transient", json!(g.is_transient)),
                    ("graph_message", json!(g.message)),
                    ("user_title", json!(g.user_title)),
                    ("user_message", json!(g.user_message)),
                ] {
                    out.insert(k.into(), v);
                }
                if g.kind == ErrorKind::ThreadControl {
                    out.insert("hint".into(), json!(g.hint));
                }
                if g.kind == ErrorKind::RateLimit {
                    out.insert("retry_after".into(), json!(g.retry_after.map(|d| d.as_secs_f64())));
                    let usage = g.usage.as_ref().and_then(|u| serde_json::to_value(u).ok()).unwrap_or(Value::Null);
                    out.insert("usage".into(), usage);
                }
            }
            Error::Transport { failure, .. } => {
                let code = match failure {
                    TransportFailure::Timeout => "ETIMEDOUT",
                    TransportFailure::Connect | TransportFailure::Closed => "ECONNREFUSED",
                    TransportFailure::Other => "ECONNRESET",
                };
                out.insert("code".into(), json!(code));
                out.insert("connected".into(), json!(!matches!(failure, TransportFailure::Connect)));
            }
            Error::Protocol { http_status, .. } => {
                out.insert("http_status".into(), json!(http_status));
            }
            Error::InvalidInput { argument, problem, .. } => {
                out.insert("argument".into(), json!(argument));
                out.insert("problem".into(), json!(problem.as_str()));
            }
        }
        out
    }
}

/// The `error` object of a Graph error body. Lenient: codes arrive as
/// numbers or numeric strings, and any field may be missing.
#[derive(Debug, Deserialize)]
pub(crate) struct GraphErrorBody {
    pub error: RawGraphError,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawGraphError {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub error_type: Option<String>,
    #[serde(default, deserialize_with = "crate::json::lenient_i64")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "crate::json::lenient_i64")]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
}

impl RawGraphError {
    pub(crate) fn into_error(self, http_status: u16) -> GraphError {
        let code = self.code.unwrap_or(0);
        let is_transient = self.is_transient.unwrap_or(false);
        GraphError {
            kind: ErrorKind::classify(code, self.error_subcode, is_transient, http_status),
            message: self.message.unwrap_or_else(|| format!("Graph API error (HTTP {http_status})")),
            error_type: self.error_type,
            code,
            subcode: self.error_subcode,
            fbtrace_id: self.fbtrace_id,
            http_status,
            is_transient,
            user_title: self.error_user_title,
            user_message: self.error_user_msg,
            retry_after: None,
            usage: None,
            hint: crate::hints::thread_control_hint(code, self.error_subcode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind::{self, *};

    fn k(code: i64, sub: Option<i64>) -> ErrorKind {
        ErrorKind::classify(code, sub, false, 400)
    }

    #[test]
    fn all_names_every_kind_once() {
        // No wildcard: a new kind stops this compiling until it is named here
        // (and, by the count below, in ALL).
        let known = |k: ErrorKind| match k {
            InvalidParameter | Auth | Permission | ThreadControl | RateLimit | Blocked | Server | Transport
            | Protocol | InvalidInput => true,
        };
        assert!(ErrorKind::ALL.iter().all(|k| known(*k)));
        let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 10, "ALL names each of the 10 kinds once");
    }

    #[test]
    fn design_table() {
        assert_eq!(k(100, None), InvalidParameter);
        assert_eq!(k(12345, None), InvalidParameter);
        assert_eq!(k(102, None), Auth);
        assert_eq!(k(190, Some(463)), Auth);
        for c in [3, 10, 200, 230, 299, 551] {
            assert_eq!(k(c, None), Permission, "{c}");
        }
        assert_eq!(k(10, Some(2018300)), ThreadControl);
        assert_eq!(k(100, Some(2018234)), ThreadControl);
        assert_eq!(k(100, Some(2534037)), ThreadControl);
        assert_eq!(k(2018171, None), ThreadControl);
        assert_eq!(k(100, Some(2018321)), ThreadControl);
        assert_eq!(k(27, None), ThreadControl);
        for c in [4, 17, 32, 341, 613, 80001, 80006, 80014] {
            assert_eq!(k(c, None), RateLimit, "{c}");
        }
        assert_eq!(k(80015, None), InvalidParameter);
        assert_eq!(k(368, None), Blocked);
        for c in [1, 2, 1200] {
            assert_eq!(k(c, None), Server);
        }
        assert_eq!(ErrorKind::classify(100, None, true, 400), Server);
        assert_eq!(ErrorKind::classify(613, None, true, 400), RateLimit);
        assert_eq!(ErrorKind::classify(777, None, false, 503), Server);
    }

    #[test]
    fn every_hinted_case_is_thread_control() {
        for h in crate::hints::THREAD_CONTROL_HINTS {
            assert_eq!(ErrorKind::classify(h.code, h.subcode, false, 400), ThreadControl, "{h:?}");
        }
    }
}
