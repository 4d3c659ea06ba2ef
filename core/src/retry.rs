//! When a failed call may be sent again, and how long to wait first.

use std::time::Duration;

use crate::error::{Error, ErrorKind, TransportFailure};

#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    /// Longer waits than this (asked for by the Graph API) fail at once.
    pub max_retry_wait: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// DESIGN's rules. A GET has no side effect, so any transient failure
    /// may be retried. A POST moves a live chat: it is sent again only when
    /// the Graph API says it did not run it (throttling), or when the
    /// connection failed before the request left.
    pub fn should_retry(err: &Error, idempotent: bool) -> bool {
        match err {
            // Closing the client ends its calls; retrying would outlive it.
            Error::Transport { failure: TransportFailure::Closed, .. } => false,
            Error::Graph(g) if g.kind == ErrorKind::RateLimit => true,
            Error::Transport { failure: TransportFailure::Connect, .. } => true,
            _ if !idempotent => false,
            Error::Graph(g) => g.kind == ErrorKind::Server,
            Error::Transport { .. } => true,
            // An HTML 502 page from a proxy is as transient as a Graph 5xx.
            Error::Protocol { http_status: Some(s), .. } => *s >= 500,
            _ => false,
        }
    }

    /// Exponential backoff with full jitter: a random wait in
    /// `[0, min(max_delay, base * 2^attempt)]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling =
            self.base_delay.saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX)).min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GraphError;

    fn graph(kind: ErrorKind) -> Error {
        Error::Graph(Box::new(GraphError {
            kind,
            message: String::new(),
            error_type: None,
            code: 1,
            subcode: None,
            fbtrace_id: None,
            http_status: 500,
            is_transient: false,
            user_title: None,
            user_message: None,
            retry_after: None,
            usage: None,
            hint: None,
        }))
    }

    #[test]
    fn post_is_not_retried_when_it_may_have_run() {
        assert!(!RetryPolicy::should_retry(&graph(ErrorKind::Server), false));
        let reset = Error::Transport { failure: TransportFailure::Other, message: String::new() };
        assert!(!RetryPolicy::should_retry(&reset, false));
        assert!(RetryPolicy::should_retry(&graph(ErrorKind::RateLimit), false));
        let refused = Error::Transport { failure: TransportFailure::Connect, message: String::new() };
        assert!(RetryPolicy::should_retry(&refused, false));
    }

    #[test]
    fn closed_is_never_retried() {
        let closed = Error::Transport { failure: TransportFailure::Closed, message: String::new() };
        assert!(!RetryPolicy::should_retry(&closed, true));
        assert!(!RetryPolicy::should_retry(&closed, false));
    }

    #[test]
    fn get_is_retried_on_transient_failures() {
        assert!(RetryPolicy::should_retry(&graph(ErrorKind::Server), true));
        assert!(!RetryPolicy::should_retry(&graph(ErrorKind::Auth), true));
        let html = Error::Protocol { message: String::new(), http_status: Some(502) };
        assert!(RetryPolicy::should_retry(&html, true));
    }

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy {
            max_retries: 3,
            max_retry_wait: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for attempt in 0..40 {
            assert!(p.backoff(attempt) <= Duration::from_secs(1));
        }
    }
}
