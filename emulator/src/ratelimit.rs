//! Per-page fixed-window call counting and the usage headers Meta sends on every response.

use crate::config::RateLimitConfig;
use serde_json::json;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    pub config: RateLimitConfig,
    window_start: Instant,
    calls: u32,
    /// When the conversations calls of the last second were accepted.
    conversation_calls: VecDeque<Instant>,
    /// `EmulatorConfig::conversations_per_second`, changeable at run time.
    pub conversations_per_second: u32,
}

/// What one call saw: the usage percentage and, when blocked, the error code.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub percent: u32,
    pub regain_minutes: u32,
    pub blocked_code: Option<u32>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig, conversations_per_second: u32) -> Self {
        RateLimiter {
            config,
            window_start: Instant::now(),
            calls: 0,
            conversation_calls: VecDeque::new(),
            conversations_per_second,
        }
    }

    pub fn set_config(&mut self, config: RateLimitConfig) {
        self.config = config;
        self.reset_counters();
    }

    pub fn reset_counters(&mut self) {
        self.window_start = Instant::now();
        self.calls = 0;
        self.conversation_calls.clear();
    }

    /// One conversations call under the per-second pacing: `Some(613)` when
    /// `conversations_per_second` calls were already accepted within the last
    /// second (a refused call does not count, so a client that slows down recovers).
    pub fn pace_conversations(&mut self) -> Option<u32> {
        let max = self.conversations_per_second as usize;
        if max == 0 {
            return None;
        }
        let now = Instant::now();
        while self.conversation_calls.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            self.conversation_calls.pop_front();
        }
        if self.conversation_calls.len() >= max {
            return Some(613);
        }
        self.conversation_calls.push_back(now);
        None
    }

    pub fn calls_in_window(&self) -> u32 {
        self.calls
    }

    /// The usage so far, without counting a call (for requests refused before counting).
    pub fn peek(&self) -> Usage {
        let percent = if self.config.enabled {
            (u64::from(self.calls) * 100 / u64::from(self.config.max_calls.max(1))).min(100) as u32
        } else {
            0
        };
        Usage { percent, regain_minutes: 0, blocked_code: None }
    }

    /// Counts one call and says whether it is over the budget.
    pub fn record_call(&mut self) -> Usage {
        if !self.config.enabled {
            return Usage { percent: 0, regain_minutes: 0, blocked_code: None };
        }
        let window = Duration::from_secs(self.config.window_secs.max(1));
        if self.window_start.elapsed() >= window {
            self.reset_counters();
        }
        self.calls = self.calls.saturating_add(1);
        let max = self.config.max_calls.max(1);
        let percent = (u64::from(self.calls) * 100 / u64::from(max)).min(100) as u32;
        let blocked = self.calls > self.config.max_calls;
        Usage {
            percent,
            // At 100% Meta already announces the wait: the next call would be refused.
            regain_minutes: if self.calls >= self.config.max_calls { self.config.regain_minutes } else { 0 },
            blocked_code: blocked.then_some(self.config.code),
        }
    }
}

impl Usage {
    /// (name, value) pairs for X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage.
    pub fn headers(&self, page_id: &str) -> Vec<(&'static str, String)> {
        let p = self.percent;
        let simple = json!({"call_count": p, "total_cputime": p, "total_time": p}).to_string();
        let buc = json!({
            page_id: [{
                "type": "messenger",
                "call_count": p,
                "total_cputime": p,
                "total_time": p,
                "estimated_time_to_regain_access": self.regain_minutes,
            }]
        })
        .to_string();
        vec![("x-app-usage", simple.clone()), ("x-page-usage", simple), ("x-business-use-case-usage", buc)]
    }
}
