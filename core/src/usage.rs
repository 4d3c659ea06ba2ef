//! The rate-limit usage headers the Graph API sends on every response.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

/// Percentages of a quota used, as `X-App-Usage` and `X-Page-Usage` report them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageFigures {
    #[serde(default)]
    pub call_count: f64,
    #[serde(default)]
    pub total_cputime: f64,
    #[serde(default)]
    pub total_time: f64,
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BusinessUseCaseUsage {
    /// The business object (here, the Page) the figures are for.
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "type")]
    pub use_case: String,
    #[serde(default)]
    pub call_count: f64,
    #[serde(default)]
    pub total_cputime: f64,
    #[serde(default)]
    pub total_time: f64,
    /// Minutes until calls are accepted again; 0 when not throttled.
    #[serde(default)]
    pub estimated_time_to_regain_access: f64,
}

/// The usage headers of one response. Headers that were absent or unreadable
/// are `None`/empty: usage is advice, never a reason to fail a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub app: Option<UsageFigures>,
    pub page: Option<UsageFigures>,
    pub business_use_case: Vec<BusinessUseCaseUsage>,
}

impl Usage {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Usage> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let app = text("x-app-usage").and_then(|t| serde_json::from_str(t).ok());
        let page = text("x-page-usage").and_then(|t| serde_json::from_str(t).ok());
        let business_use_case: Vec<BusinessUseCaseUsage> = text("x-business-use-case-usage")
            .and_then(|t| serde_json::from_str::<std::collections::BTreeMap<String, Vec<BusinessUseCaseUsage>>>(t).ok())
            .map(|by_id| {
                by_id
                    .into_iter()
                    .flat_map(|(id, entries)| {
                        entries.into_iter().map(move |e| BusinessUseCaseUsage { id: id.clone(), ..e })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if app.is_none() && page.is_none() && business_use_case.is_empty() {
            return None;
        }
        Some(Usage { app, page, business_use_case })
    }

    /// The highest `call_count` percentage any header reports.
    pub fn max_call_count(&self) -> f64 {
        let flat = self.app.iter().chain(self.page.iter()).map(|u| u.call_count);
        flat.chain(self.business_use_case.iter().map(|b| b.call_count)).fold(0.0, f64::max)
    }

    /// The longest wait the Business Use Case header announces, if any
    /// (`estimated_time_to_regain_access`, in minutes:
    /// https://developers.facebook.com/docs/graph-api/overview/rate-limiting).
    /// A wait too large for a `Duration` is `Duration::MAX`.
    pub fn regain_access_in(&self) -> Option<Duration> {
        let minutes = self.business_use_case.iter().map(|b| b.estimated_time_to_regain_access).fold(0.0, f64::max);
        // try_from: absurd values from a broken proxy must not panic (found by
        // fuzzing). One too large for a Duration is the longest wait, never
        // none: it must fail the call at once, not let it retry straight away.
        if minutes > 0.0 {
            Some(Duration::try_from_secs_f64(minutes * 60.0).unwrap_or(Duration::MAX))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_all_three_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-app-usage", HeaderValue::from_static(r#"{"call_count":28,"total_time":25,"total_cputime":25}"#));
        h.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(
                r#"{"42":[{"type":"messenger","call_count":100,"total_cputime":3,"total_time":4,"estimated_time_to_regain_access":2}]}"#,
            ),
        );
        let u = Usage::from_headers(&h).unwrap_or_default();
        assert_eq!(u.app.as_ref().map(|a| a.call_count), Some(28.0));
        assert_eq!(u.business_use_case[0].id, "42");
        assert_eq!(u.max_call_count(), 100.0);
        assert_eq!(u.regain_access_in(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn absurd_regain_time_does_not_panic() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(r#"{"1":[{"estimated_time_to_regain_access":1e308}]}"#),
        );
        let u = Usage::from_headers(&h).unwrap_or_default();
        assert_eq!(u.regain_access_in(), Some(Duration::MAX));
    }

    #[test]
    fn garbage_is_ignored() {
        let mut h = HeaderMap::new();
        h.insert("x-app-usage", HeaderValue::from_static("not json"));
        assert_eq!(Usage::from_headers(&h), None);
    }
}
