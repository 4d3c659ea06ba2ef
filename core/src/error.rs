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
        // 27: take without Conversation Routing (see routing.rs).
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
    /// (`routing::THREAD_CONTROL_HINTS`); also ends the Display text.
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
    /// An argument was refused before anything was sent.
    #[error("invalid argument `{argument}`: {message}")]
    InvalidInput { argument: &'static str, message: String },
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

    pub(crate) fn invalid(argument: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { argument, message: message.into() }
    }

    pub(crate) fn protocol(message: impl Into<String>, http_status: Option<u16>) -> Self {
        Error::Protocol { message: message.into(), http_status }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
            hint: crate::routing::thread_control_hint(code, self.error_subcode),
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
}
