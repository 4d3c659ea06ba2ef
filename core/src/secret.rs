//! The access token, kept out of every Debug, Display and message.

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces the secret in text that may have echoed it.
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 8 || !text.contains(&self.0) {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }

    /// The usage headers with their strings (ids, use-case types) redacted:
    /// they come from the response and reach errors.
    pub fn redact_usage(&self, mut usage: crate::usage::Usage) -> crate::usage::Usage {
        for b in &mut usage.business_use_case {
            b.id = self.redact(&b.id);
            b.use_case = self.redact(&b.use_case);
        }
        usage
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Hex HMAC-SHA256 of `message` keyed by `key`: the Graph API's
/// `appsecret_proof` and the webhooks' `X-Hub-Signature-256` alike.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}
