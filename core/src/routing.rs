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

/// What to do about one thread-control refusal, keyed by the Graph code and
/// subcode (`None`: any subcode). The same sentences reach Python and Node
/// through the core's error text and `GraphError::hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadControlHint {
    pub code: i64,
    pub subcode: Option<i64>,
    pub hint: &'static str,
}

const ANOTHER_APP_HOLDS: &str =
    "another app controls this thread: call thread_owner to see which, or request_thread_control to ask for it";
// 100/2534037: Meta's error-code page
// (<https://developers.facebook.com/docs/messenger-platform/error-codes>) does
// not list the subcode, nor do the thread-control references. What Meta does
// document: the app in control of a conversation is the one that acts on it
// (<https://developers.facebook.com/docs/messenger-platform/handover-protocol/conversation-control>),
// and a Page under Conversation Routing keeps only some Handover Protocol
// calls (<https://developers.facebook.com/docs/messenger-platform/conversation-routing/>).
// Integrations in the field meet 2534037 when acting on a thread another app
// controls; the emulator also answers it to extend on a Page without
// Conversation Routing. The hint names both, the documented reading first.
const NOT_THE_OWNER: &str = "this app does not control the thread (or, for extend, the Page lacks Conversation \
     Routing): check thread_owner and feature_status first";
const TAKE_NEEDS_DEFAULT_APP: &str = "take_thread_control needs Conversation Routing with a default app for the \
     Page; without one, pass the thread or use request_thread_control";
const ROLE_REFUSED: &str = "this app's role on the Page does not allow that call: under Conversation Routing only \
     the default app may take a thread; others use request_thread_control";
const STATE_REFUSED: &str =
    "the thread is not in a state that allows this call (idle, or already yours): check thread_owner first";

/// One hint per thread-control case of DESIGN's error table.
pub const THREAD_CONTROL_HINTS: [ThreadControlHint; 6] = [
    ThreadControlHint { code: 10, subcode: Some(2018300), hint: ANOTHER_APP_HOLDS },
    ThreadControlHint { code: 100, subcode: Some(2534037), hint: NOT_THE_OWNER },
    ThreadControlHint { code: 100, subcode: Some(2018234), hint: ROLE_REFUSED },
    ThreadControlHint { code: 2018171, subcode: None, hint: ROLE_REFUSED },
    ThreadControlHint { code: 2018321, subcode: None, hint: STATE_REFUSED },
    // "(#27) Take thread control is not supported when Conversation Routing
    // is not enabled" (conversation-routing page above).
    ThreadControlHint { code: 27, subcode: None, hint: TAKE_NEEDS_DEFAULT_APP },
];

/// The hint for a thread-control error. The subcodes 2018171 and 2018321
/// also arrive under a generic code (100), so they are matched as either.
pub fn thread_control_hint(code: i64, subcode: Option<i64>) -> Option<&'static str> {
    let exact = THREAD_CONTROL_HINTS.iter().find(|h| h.code == code && h.subcode.is_some() && h.subcode == subcode);
    let by_code =
        || THREAD_CONTROL_HINTS.iter().find(|h| h.subcode.is_none() && (h.code == code || Some(h.code) == subcode));
    exact.or_else(by_code).map(|h| h.hint)
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
    fn hints_cover_every_thread_control_case() {
        use crate::error::ErrorKind;
        for h in THREAD_CONTROL_HINTS {
            assert_eq!(ErrorKind::classify(h.code, h.subcode, false, 400), ErrorKind::ThreadControl, "{h:?}");
            assert!(h.hint.len() < 160, "a hint is one short sentence: {}", h.hint);
        }
        assert_eq!(thread_control_hint(27, None), Some(TAKE_NEEDS_DEFAULT_APP));
        assert_eq!(thread_control_hint(10, Some(2018300)), Some(ANOTHER_APP_HOLDS));
        assert_eq!(thread_control_hint(100, Some(2018171)), Some(ROLE_REFUSED));
        assert_eq!(thread_control_hint(100, Some(2018321)), Some(STATE_REFUSED));
        assert_eq!(thread_control_hint(100, Some(2534037)), Some(NOT_THE_OWNER));
        assert_eq!(thread_control_hint(10, None), None);
        assert_eq!(thread_control_hint(100, None), None);
    }

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
