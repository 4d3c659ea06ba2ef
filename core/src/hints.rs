//! What to do about a refused thread-control call: one short sentence per
//! Graph code and subcode of DESIGN's thread-control table. `error.rs`
//! attaches it to a `GraphError` as it is built; `routing.rs` re-exports it
//! as part of the public Conversation Routing API. It sits below both so
//! that neither imports the other.

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
// (<https://developers.facebook.com/docs/messenger-platform/handover-protocol/conversation-control>).
// Integrations in the field meet 2534037 when acting on a thread another app
// controls (or no app does), so that is the one reading given here.
const NOT_THE_OWNER: &str = "this app does not control the thread: check thread_owner first";
const TAKE_NEEDS_DEFAULT_APP: &str = "take_thread_control needs Conversation Routing with a default app \
     for the Page; without one, pass the thread or use request_thread_control";
const ROLE_REFUSED: &str = "this app's role on the Page does not allow that call: under Conversation \
     Routing only the default app may take a thread; others use request_thread_control";
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
    // is not enabled"
    // (<https://developers.facebook.com/docs/messenger-platform/conversation-routing/>).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_case_has_its_hint() {
        assert_eq!(thread_control_hint(27, None), Some(TAKE_NEEDS_DEFAULT_APP));
        assert_eq!(thread_control_hint(10, Some(2018300)), Some(ANOTHER_APP_HOLDS));
        assert_eq!(thread_control_hint(100, Some(2018171)), Some(ROLE_REFUSED));
        assert_eq!(thread_control_hint(100, Some(2018321)), Some(STATE_REFUSED));
        assert_eq!(thread_control_hint(100, Some(2534037)), Some(NOT_THE_OWNER));
        assert_eq!(thread_control_hint(10, None), None);
        assert_eq!(thread_control_hint(100, None), None);
        for h in THREAD_CONTROL_HINTS {
            assert!(h.hint.len() < 160, "a hint is one short sentence: {}", h.hint);
        }
    }
}
