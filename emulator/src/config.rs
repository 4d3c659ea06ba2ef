//! Configuration and the fixed, deterministic identities of the emulated page and apps.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The page id every emulator instance serves.
pub const PAGE_ID: &str = "104729384756102";
/// The Page Inbox app id is fixed by Meta; clients special-case it.
pub const PAGE_INBOX_APP_ID: &str = "263902037430900";
/// The Instagram Inbox app: the Page Inbox's counterpart for Instagram threads.
/// <https://developers.facebook.com/docs/messenger-platform/instagram/features/conversation-routing/>
pub const INSTAGRAM_INBOX_APP_ID: &str = "1217981644879628";
pub const PRIMARY_APP_ID: &str = "1111111111111";
pub const SECONDARY_APP_ID: &str = "2222222222222";

/// How a run of the emulator behaves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmulatorConfig {
    /// 0 picks a free port.
    pub port: u16,
    pub conversations: usize,
    pub mode: Mode,
    pub rate_limit: RateLimitConfig,
    pub log_requests: bool,
    /// The conversations edge's own pacing, per Page: at most this many calls
    /// in any one second, answered 613 beyond (0: off; independent of
    /// `rate_limit.enabled`). Graph allows the conversations API about 2 calls/s per Page.
    pub conversations_per_second: u32,
    /// Conversation Routing's default app; `None`: no default app (every app
    /// may answer an idle thread, and take answers #27). Handover mode ignores it.
    pub default_app: Option<AppRole>,
    /// What `GET /{page}?fields=messaging_feature_status` answers.
    pub feature_status: FeatureStatus,
    /// How many requests the log keeps (the oldest are dropped first).
    pub log_capacity: usize,
    /// A request whose head has not arrived within this many milliseconds is dropped.
    pub header_read_timeout_ms: u64,
}

/// The most conversations an emulator makes. Each is generated up front
/// (about 330 bytes), so a few zeros too many are refused instead of
/// exhausting memory: a failed allocation aborts the whole process (a
/// notebook's kernel, a test runner).
pub const MAX_CONVERSATIONS: usize = 5_000_000;

impl EmulatorConfig {
    /// Refuses a configuration the emulator cannot run, naming the field.
    pub fn check(&self) -> Result<(), String> {
        if self.conversations > MAX_CONVERSATIONS {
            return Err(format!("conversations: at most {MAX_CONVERSATIONS}, not {}", self.conversations));
        }
        Ok(())
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            conversations: 120,
            mode: Mode::Handover,
            rate_limit: RateLimitConfig::default(),
            log_requests: true,
            conversations_per_second: 0,
            default_app: Some(AppRole::Primary),
            feature_status: FeatureStatus::default(),
            log_capacity: 10_000,
            header_read_timeout_ms: 10_000,
        }
    }
}

/// The Page's `messaging_feature_status`: which multi-app messaging features it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureStatus {
    pub hop_v2: bool,
    pub msgr_multi_app: bool,
    pub ig_multi_app: bool,
}

impl Default for FeatureStatus {
    /// Every Page has been migrated to Conversation Routing.
    fn default() -> Self {
        FeatureStatus { hop_v2: true, msgr_multi_app: true, ig_multi_app: true }
    }
}

/// Handover Protocol (roles) or Conversation Routing (default app, idle threads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Handover,
    Routing,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "handover" => Ok(Mode::Handover),
            "routing" => Ok(Mode::Routing),
            other => Err(format!("unknown mode {other:?} (expected handover or routing)")),
        }
    }
}

/// Per-page call budget; off by default so ordinary tests never trip it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub max_calls: u32,
    pub window_secs: u64,
    /// 613 or 80006.
    pub code: u32,
    pub regain_minutes: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig { enabled: false, max_calls: 200, window_secs: 60, code: 613, regain_minutes: 1 }
    }
}

/// Which of the three apps with a role on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRole {
    Primary,
    Secondary,
    PageInbox,
    InstagramInbox,
}

impl AppRole {
    pub const ALL: [AppRole; 4] = [AppRole::Primary, AppRole::Secondary, AppRole::PageInbox, AppRole::InstagramInbox];

    pub fn app_id(self) -> &'static str {
        match self {
            AppRole::Primary => PRIMARY_APP_ID,
            AppRole::Secondary => SECONDARY_APP_ID,
            AppRole::PageInbox => PAGE_INBOX_APP_ID,
            AppRole::InstagramInbox => INSTAGRAM_INBOX_APP_ID,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Primary => "primary",
            AppRole::Secondary => "secondary",
            AppRole::PageInbox => "page_inbox",
            AppRole::InstagramInbox => "instagram_inbox",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            AppRole::Primary => "Helpdesk Bot",
            AppRole::Secondary => "Helpdesk Secondary",
            AppRole::PageInbox => "Page Inbox",
            AppRole::InstagramInbox => "Instagram Inbox",
        }
    }

    pub fn from_app_id(id: &str) -> Option<AppRole> {
        AppRole::ALL.into_iter().find(|r| r.app_id() == id)
    }
}

impl FromStr for AppRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "primary" => Ok(AppRole::Primary),
            "secondary" => Ok(AppRole::Secondary),
            "page_inbox" => Ok(AppRole::PageInbox),
            "instagram_inbox" => Ok(AppRole::InstagramInbox),
            other => Err(format!("unknown app role {other:?}")),
        }
    }
}

/// One app's identity. Debug hides the secrets so they never reach logs.
#[derive(Clone, Serialize, PartialEq, Eq)]
pub struct AppCredentials {
    pub app_id: String,
    pub token: String,
    pub secret: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("token", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Apps {
    pub primary: AppCredentials,
    pub secondary: AppCredentials,
    pub page_inbox: AppCredentials,
    pub instagram_inbox: AppCredentials,
}

impl Apps {
    /// Same values on every run: tests and docs can rely on them.
    pub fn generate() -> Apps {
        Apps {
            primary: credentials(AppRole::Primary, 0x9e37_79b9_0001),
            secondary: credentials(AppRole::Secondary, 0x9e37_79b9_0002),
            page_inbox: credentials(AppRole::PageInbox, 0x9e37_79b9_0003),
            instagram_inbox: credentials(AppRole::InstagramInbox, 0x9e37_79b9_0004),
        }
    }

    pub fn get(&self, role: AppRole) -> &AppCredentials {
        match role {
            AppRole::Primary => &self.primary,
            AppRole::Secondary => &self.secondary,
            AppRole::PageInbox => &self.page_inbox,
            AppRole::InstagramInbox => &self.instagram_inbox,
        }
    }

    pub fn role_for_token(&self, token: &str) -> Option<AppRole> {
        AppRole::ALL.into_iter().find(|r| self.get(*r).token == token)
    }
}

fn credentials(role: AppRole, seed: u64) -> AppCredentials {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = fastrand::Rng::with_seed(seed);
    // Real page tokens start with "EAAG" and run to ~200 characters.
    let mut token = String::from("EAAG");
    for _ in 0..180 {
        token.push(ALNUM[rng.usize(..ALNUM.len())] as char);
    }
    let secret: String = (0..32).map(|_| char::from_digit(rng.u32(..16), 16).unwrap_or('0')).collect();
    AppCredentials { app_id: role.app_id().to_string(), token, secret }
}
