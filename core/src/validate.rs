//! Argument checks made before anything is sent, so that a bad id can never
//! reshape a URL or reach the Graph API.

use crate::error::{Error, Result};

/// The Graph API's limit on handover `metadata`.
pub const MAX_METADATA_CHARS: usize = 1000;
/// Conversation Routing's longest extension: seven days.
pub const MAX_EXTEND_SECONDS: u64 = 7 * 24 * 60 * 60;
pub const MAX_PAGE_SIZE: u32 = 100;

/// An id: non-empty, no `/ ? # &`, whitespace or control characters.
pub fn id(argument: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(argument, "must not be empty"));
    }
    if let Some(c) =
        value.chars().find(|c| matches!(c, '/' | '?' | '#' | '&' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(argument, format!("must not contain {c:?}")));
    }
    if value.len() > 256 {
        return Err(Error::invalid(argument, "is longer than 256 bytes"));
    }
    Ok(())
}

/// An app id: digits only.
pub fn app_id(argument: &'static str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(argument, "must be a numeric app id (digits only)"));
    }
    Ok(())
}

pub fn metadata(value: Option<&str>) -> Result<()> {
    if let Some(m) = value {
        let n = m.chars().count();
        if n > MAX_METADATA_CHARS {
            return Err(Error::invalid(
                "metadata",
                format!("is {n} characters; the Graph API accepts at most {MAX_METADATA_CHARS}"),
            ));
        }
    }
    Ok(())
}

pub fn duration(seconds: u64) -> Result<()> {
    if seconds == 0 || seconds > MAX_EXTEND_SECONDS {
        return Err(Error::invalid("duration", format!("must be between 1 and {MAX_EXTEND_SECONDS} seconds (7 days)")));
    }
    Ok(())
}

pub fn page_size(value: u32) -> Result<()> {
    if value == 0 || value > MAX_PAGE_SIZE {
        return Err(Error::invalid("page_size", format!("must be between 1 and {MAX_PAGE_SIZE}")));
    }
    Ok(())
}

/// A field or tag: a Graph field expression (`participants{name}`,
/// `messages.limit(5)`), never anything that could break out of a query value.
pub fn field(argument: &'static str, value: &str) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.{}():,".contains(c);
    if value.is_empty() {
        return Err(Error::invalid(argument, "must not contain an empty name"));
    }
    if let Some(c) = value.chars().find(|c| !ok(*c)) {
        return Err(Error::invalid(argument, format!("must not contain {c:?}")));
    }
    Ok(())
}

/// A cursor is opaque, but it goes into a query: no control characters.
pub fn cursor(value: &str) -> Result<()> {
    if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) || value.len() > 4096 {
        return Err(Error::invalid("after", "is not a paging cursor"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(id("psid", "1234567890").is_ok());
        for bad in ["", "1/2", "1?x", "a#b", "a&b", "a b", "a\nb", "a\0b", "%2F"] {
            assert!(id("psid", bad).is_err(), "{bad:?}");
        }
        assert!(app_id("target_app_id", "263902037430900").is_ok());
        assert!(app_id("target_app_id", "12a").is_err());
    }

    #[test]
    fn bounds() {
        assert!(duration(0).is_err());
        assert!(duration(604_800).is_ok());
        assert!(duration(604_801).is_err());
        assert!(metadata(Some(&"x".repeat(1001))).is_err());
        assert!(page_size(101).is_err());
        assert!(field("fields", "participants{name,id}").is_ok());
        assert!(field("fields", "a&b").is_err());
    }
}
