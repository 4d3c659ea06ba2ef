//! Graph's time format, shared by the state, the conversations edge, the
//! Graph endpoints and the admin API; it sits below all of them so that
//! none of them imports another for it.

use chrono::{DateTime, Utc};

/// Graph's time format: `2026-11-22T12:00:00+0000`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}
