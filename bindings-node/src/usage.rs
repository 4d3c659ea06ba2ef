//! The usage headers of a response (`X-App-Usage`, `X-Page-Usage`,
//! `X-Business-Use-Case-Usage`) as JavaScript sees them: what
//! `client.lastUsage()` returns and what a thrown error's `usage` holds.

use messenger_handover as core;
use napi_derive::napi;
use serde::Serialize;

/// Percentages of a quota used (`X-App-Usage`, `X-Page-Usage`).
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageFigures {
    pub call_count: f64,
    pub total_cputime: f64,
    pub total_time: f64,
}

impl From<&core::UsageFigures> for UsageFigures {
    fn from(u: &core::UsageFigures) -> Self {
        UsageFigures { call_count: u.call_count, total_cputime: u.total_cputime, total_time: u.total_time }
    }
}

/// One entry of `X-Business-Use-Case-Usage`.
#[napi(object)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUseCaseUsage {
    pub id: String,
    #[napi(js_name = "type")]
    #[serde(rename = "type")]
    pub use_case: String,
    pub call_count: f64,
    pub total_cputime: f64,
    pub total_time: f64,
    /// Minutes until calls are accepted again; 0 when not throttled.
    pub estimated_time_to_regain_access: f64,
}

/// The usage headers of one response.
#[napi(object, use_nullable = true)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageInfo {
    pub app: Option<UsageFigures>,
    pub page: Option<UsageFigures>,
    pub business_use_case: Vec<BusinessUseCaseUsage>,
}

impl From<&core::Usage> for UsageInfo {
    fn from(u: &core::Usage) -> Self {
        UsageInfo {
            app: u.app.as_ref().map(Into::into),
            page: u.page.as_ref().map(Into::into),
            business_use_case: u
                .business_use_case
                .iter()
                .map(|b| BusinessUseCaseUsage {
                    id: b.id.clone(),
                    use_case: b.use_case.clone(),
                    call_count: b.call_count,
                    total_cputime: b.total_cputime,
                    total_time: b.total_time,
                    estimated_time_to_regain_access: b.estimated_time_to_regain_access,
                })
                .collect(),
        }
    }
}
