//! Conversation Routing as Meta runs it today: the Page's messaging feature
//! status, the two inbox apps, and what to do when a thread-control call is
//! refused.
//!
//! Meta migrated every Page and Instagram account from the Handover Protocol
//! to Conversation Routing (a default app instead of primary/secondary roles,
//! idle threads, control that expires):
//! <https://developers.facebook.com/docs/messenger-platform/conversation-routing/>
//! and, for Instagram,
//! <https://developers.facebook.com/docs/messenger-platform/instagram/features/conversation-routing/>
//! (conversation control:
//! <https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/human-agent-escalation>).

use serde::{Deserialize, Serialize};

use crate::client::{parse_json, Client, INSTAGRAM_INBOX_APP_ID, PAGE_INBOX_APP_ID};
use crate::error::Result;
// The hints live below both this module and `error.rs` (which attaches them
// to errors); they stay part of this module's public API.
pub use crate::hints::{thread_control_hint, ThreadControlHint, THREAD_CONTROL_HINTS};
use crate::model::Platform;

/// Which messaging features are on for the Page (`messaging_feature_status`).
///
/// `hop_v2` is Conversation Routing on Messenger; `msgr_multi_app` and
/// `ig_multi_app` say that several apps may answer on Messenger and on
/// Instagram. A flag the Graph API leaves out is `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureStatus {
    #[serde(default)]
    pub hop_v2: bool,
    #[serde(default)]
    pub msgr_multi_app: bool,
    #[serde(default)]
    pub ig_multi_app: bool,
}

impl Platform {
    /// The app that stands for the human inbox of this platform: passing a
    /// thread to it hands the chat to people (Page Inbox on Messenger,
    /// Instagram Inbox on Instagram).
    pub fn inbox_app_id(self) -> &'static str {
        match self {
            Platform::Messenger => PAGE_INBOX_APP_ID,
            Platform::Instagram => INSTAGRAM_INBOX_APP_ID,
        }
    }
}

#[derive(Deserialize)]
struct FeatureStatusAnswer {
    messaging_feature_status: Option<FeatureStatusField>,
}

/// Seen as an object, and (like other Page fields) as `{"data": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum FeatureStatusField {
    // First: every FeatureStatus field is optional, so `Plain` would match anything.
    Data { data: Vec<FeatureStatus> },
    Plain(FeatureStatus),
}

pub(crate) fn parse_feature_status(body: &[u8]) -> Result<FeatureStatus> {
    let answer: FeatureStatusAnswer = parse_json(body)?;
    match answer.messaging_feature_status {
        Some(FeatureStatusField::Plain(s)) => Ok(s),
        Some(FeatureStatusField::Data { data }) => Ok(data.into_iter().next().unwrap_or_default()),
        None => Err(crate::error::Error::protocol("the answer has no \"messaging_feature_status\" field", Some(200))),
    }
}

impl Client {
    /// Hands the chat to the people answering in the inbox of `platform`:
    /// the Page Inbox (Messenger) or the Instagram Inbox. The two-argument
    /// [`Client::pass_thread_control_to_page_inbox`] is this with Messenger.
    pub async fn pass_thread_control_to_inbox(
        &self,
        psid: &str,
        metadata: Option<&str>,
        platform: Platform,
    ) -> Result<()> {
        self.pass_thread_control(psid, platform.inbox_app_id(), metadata).await
    }

    /// Whether Conversation Routing and multi-app messaging are on for the
    /// Page (`GET /{page}?fields=messaging_feature_status`).
    pub async fn feature_status(&self) -> Result<FeatureStatus> {
        let body = self.get("", &[("fields", "messaging_feature_status")]).await?;
        parse_feature_status(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_status_shapes() {
        let s = parse_feature_status(
            br#"{"messaging_feature_status":{"hop_v2":true,"ig_multi_app":false,"msgr_multi_app":true},"id":"1"}"#,
        );
        assert_eq!(s.ok(), Some(FeatureStatus { hop_v2: true, msgr_multi_app: true, ig_multi_app: false }));
        let s = parse_feature_status(br#"{"messaging_feature_status":{"data":[{"hop_v2":true}]}}"#);
        assert_eq!(s.ok(), Some(FeatureStatus { hop_v2: true, ..FeatureStatus::default() }));
        assert!(parse_feature_status(br#"{"id":"1"}"#).is_err());
    }
}
