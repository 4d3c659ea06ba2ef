//! Graph API error bodies with the real codes, subcodes, types and HTTP statuses.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub status: u16,
    pub code: i64,
    pub subcode: Option<i64>,
    pub kind: &'static str,
    pub message: String,
    pub is_transient: Option<bool>,
}

const OAUTH: &str = "OAuthException";
const METHOD: &str = "GraphMethodException";

impl GraphError {
    fn new(status: u16, code: i64, subcode: Option<i64>, kind: &'static str, msg: &str) -> Self {
        GraphError { status, code, subcode, kind, message: msg.to_string(), is_transient: None }
    }

    /// A bad parameter: code 100, GraphMethodException.
    pub fn param(msg: impl AsRef<str>) -> Self {
        Self::new(400, 100, None, METHOD, msg.as_ref())
    }

    pub fn param_sub(subcode: i64, msg: impl AsRef<str>) -> Self {
        Self::new(400, 100, Some(subcode), METHOD, msg.as_ref())
    }

    pub fn invalid_token() -> Self {
        Self::new(400, 190, None, OAUTH, "Invalid OAuth access token - Cannot parse access token")
    }

    pub fn bad_proof() -> Self {
        Self::param("Invalid appsecret_proof provided in the API argument")
    }

    /// Code 10 without subcode: the app lacks the permission (HTTP 403).
    pub fn permission() -> Self {
        Self::new(403, 10, None, OAUTH, "(#10) Application does not have permission for this action")
    }

    pub fn not_owner() -> Self {
        Self::new(400, 10, Some(2018300), OAUTH, "(#10) Thread control is not owned by this app")
    }

    pub fn bad_target() -> Self {
        let mut e = Self::param_sub(2018234, "(#100) target_app_id is not a valid app with a role on this page");
        e.kind = OAUTH;
        e
    }

    /// `extend_thread_control` on a Page that uses the Handover Protocol.
    /// Meta documents extend only as a Conversation Routing call
    /// (<https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/conversation-routing/apis>)
    /// and documents no error for it on a Page without Conversation
    /// Routing, so this answer is the emulator's own choice: a plain 100
    /// (no subcode, so clients read it as a bad parameter, not as a
    /// thread-control refusal) whose message says why.
    pub fn routing_disabled() -> Self {
        Self::param("(#100) extend_thread_control is not available: this Page does not use Conversation Routing")
    }

    /// Extend on an idle thread: this app does not control it. 100/2534037
    /// is not on Meta's error-code page either; "this app does not control
    /// the thread" is the one reading the core supports (see
    /// `core/src/hints.rs`), and the emulator answers it only for that.
    pub fn thread_idle() -> Self {
        let mut e = Self::param_sub(2534037, "(#100) The thread is idle: no app owns it");
        e.kind = OAUTH;
        e
    }

    /// Take without a default app under Conversation Routing (the wording the
    /// Graph API answers, issue 17).
    pub fn take_without_routing() -> Self {
        Self::new(
            400,
            27,
            None,
            OAUTH,
            "(#27) Take thread control is not supported when Conversation Routing is not enabled",
        )
    }

    pub fn only_primary_take() -> Self {
        Self::new(400, 2018171, None, OAUTH, "(#2018171) Only the Primary Receiver can take thread control")
    }

    pub fn already_owner() -> Self {
        Self::new(400, 2018321, None, OAUTH, "(#2018321) This app already owns the thread")
    }

    /// More than 50 operations in one batch (<https://developers.facebook.com/docs/graph-api/batch-requests>).
    pub fn batch_too_large() -> Self {
        let mut e = Self::param("(#100) Too many requests in batch message. Maximum batch size is 50");
        e.kind = "GraphBatchException";
        e
    }

    pub fn recipient_required() -> Self {
        Self::param("(#100) The parameter recipient is required")
    }

    pub fn no_user() -> Self {
        Self::param_sub(2018001, "(#100) No matching user found")
    }

    pub fn unsupported(method: &str, object: &str) -> Self {
        Self::param_sub(
            33,
            format!(
                "Unsupported {} request. Object with ID '{object}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
    }

    pub fn unknown_path(rest: &str) -> Self {
        Self::new(400, 2500, None, OAUTH, &format!("Unknown path components: {rest}"))
    }

    /// A malformed `fields` expression.
    pub fn syntax(msg: &str) -> Self {
        Self::new(400, 2500, None, OAUTH, msg)
    }

    pub fn nonexisting_field(field: &str, node: &str) -> Self {
        Self::param(format!("(#100) Tried accessing nonexisting field ({field}) on node type ({node})"))
    }

    pub fn rate_limited(code: u32) -> Self {
        if code == 80006 {
            let mut e = Self::new(
                400,
                80006,
                None,
                OAUTH,
                "(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again.",
            );
            e.is_transient = Some(false);
            e
        } else {
            Self::new(
                400,
                i64::from(code),
                None,
                OAUTH,
                &format!("(#{code}) Calls to this api have exceeded the rate limit."),
            )
        }
    }

    /// The wire body; `fbtrace_id` comes from the shared counter.
    pub fn body(&self, fbtrace_id: &str) -> Value {
        let mut err = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
        });
        if let Some(sub) = self.subcode {
            err["error_subcode"] = json!(sub);
        }
        if let Some(t) = self.is_transient {
            err["is_transient"] = json!(t);
        }
        err["fbtrace_id"] = json!(fbtrace_id);
        json!({ "error": err })
    }
}

/// An 11-character trace id: "A" + base62 of a scrambled counter.
pub fn fbtrace_id(counter: u64) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // Multiply by an odd constant so consecutive ids do not look sequential.
    let mut n = counter.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    let mut out = String::from("A");
    for _ in 0..10 {
        out.push(B62[(n % 62) as usize] as char);
        n /= 62;
    }
    out
}
