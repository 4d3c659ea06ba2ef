//! Spacing calls to one Page's conversations edge. Graph allows that API
//! about 2 calls per second per Page (Conversations API for Messenger
//! Platform, https://developers.facebook.com/docs/messenger-platform/conversations);
//! the usage headers say how close the app and the Page are to their
//! quotas (https://developers.facebook.com/docs/graph-api/overview/rate-limiting),
//! and a walk slows further as they fill.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::Client;
use crate::usage::Usage;

/// Spaces calls at least `interval` apart, stretched by the usage headers.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// None: no pacing, only counting.
    interval: Option<Duration>,
    calls: AtomicU64,
    next: tokio::sync::Mutex<Option<Instant>>,
    waited_nanos: AtomicU64,
}

/// Sent times are measured here, received times at the server: a small
/// margin keeps a strict limiter on the other side from ever counting
/// one call too many in a window.
const MARGIN: Duration = Duration::from_millis(50);

impl Pacer {
    /// `calls_per_second` must be positive and finite (checked by the caller).
    pub(crate) fn new(calls_per_second: Option<f64>) -> Self {
        Pacer {
            interval: calls_per_second.map(|rate| Duration::from_secs_f64(1.0 / rate) + MARGIN),
            calls: AtomicU64::new(0),
            next: tokio::sync::Mutex::new(None),
            waited_nanos: AtomicU64::new(0),
        }
    }

    /// Waits for this call's turn. Holding the lock while sleeping keeps
    /// concurrent callers (a prefetch and a retry) in one queue.
    pub(crate) async fn wait(&self, client: &Client) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Some(interval) = self.interval else { return };
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if let Some(at) = *next {
            if at > now {
                tokio::time::sleep_until(at).await;
                let waited = u64::try_from((at - now).as_nanos()).unwrap_or(u64::MAX);
                self.waited_nanos.fetch_add(waited, Ordering::Relaxed);
            }
        }
        let factor = client.last_usage().map_or(1.0, |u| slowdown(&u));
        *next = Some(Instant::now() + interval.mul_f64(factor));
    }

    /// Calls let through so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Time spent waiting for a turn so far.
    pub(crate) fn waited(&self) -> Duration {
        Duration::from_nanos(self.waited_nanos.load(Ordering::Relaxed))
    }
}

/// How much longer to wait between calls for the fullest quota the usage
/// headers report (percent used): none below three quarters, three times
/// as long at the limit (Graph throttles at 100%).
fn slowdown(usage: &Usage) -> f64 {
    let figures = usage
        .app
        .iter()
        .chain(usage.page.iter())
        .flat_map(|f| [f.call_count, f.total_cputime, f.total_time])
        .chain(usage.business_use_case.iter().flat_map(|b| [b.call_count, b.total_cputime, b.total_time]));
    let fullest = figures.filter(|p| p.is_finite()).fold(0.0_f64, f64::max);
    match fullest {
        p if p >= 100.0 => 3.0,
        p if p >= 90.0 => 2.0,
        p if p >= 75.0 => 1.5,
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::UsageFigures;

    #[test]
    fn fuller_quotas_slow_down() {
        let with = |p: f64| Usage {
            page: Some(UsageFigures { call_count: p, total_cputime: 0.0, total_time: 0.0 }),
            ..Usage::default()
        };
        assert_eq!(slowdown(&Usage::default()), 1.0);
        assert_eq!(slowdown(&with(10.0)), 1.0);
        assert_eq!(slowdown(&with(60.0)), 1.0);
        assert_eq!(slowdown(&with(80.0)), 1.5);
        assert_eq!(slowdown(&with(95.0)), 2.0);
        assert_eq!(slowdown(&with(100.0)), 3.0);
        assert_eq!(slowdown(&with(f64::NAN)), 1.0);
    }
}
