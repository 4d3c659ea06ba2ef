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

/// A field or tag: a Graph field expression, validated rather than refused:
/// a comma-separated list of `name`, each with optional modifiers
/// `.name(arg)` (`.limit(5)`, `.as(alias)`) and an optional `{sub,fields}`
/// list, nested (`messages.limit(3){id,from,message}`). This is the Graph
/// API's field expansion syntax
/// (https://developers.facebook.com/docs/graph-api/guides/field-expansion).
/// Nothing that could break out of a query value gets through.
pub fn field(argument: &'static str, value: &str) -> Result<()> {
    const MAX_LEN: usize = 4096;
    if value.len() > MAX_LEN {
        return Err(Error::invalid(argument, format!("is longer than {MAX_LEN} bytes")));
    }
    let mut parser = FieldParser { s: value.as_bytes(), at: 0 };
    parser
        .list(0)
        .and_then(|()| if parser.at == parser.s.len() { Ok(()) } else { Err(parser.unexpected()) })
        .map_err(|why| Error::invalid(argument, format!("is not a Graph field expression: {why}")))
}

/// A recursive-descent reader of field expansion expressions.
struct FieldParser<'a> {
    s: &'a [u8],
    at: usize,
}

impl FieldParser<'_> {
    /// Nesting deeper than this is refused (Graph's own examples use two or three).
    const MAX_DEPTH: usize = 8;

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            // Only the character and where: never the rest of a value that may be a secret.
            Some(c) if c.is_ascii_graphic() => format!("unexpected {:?} at byte {}", c as char, self.at),
            Some(_) => format!("unexpected character at byte {}", self.at),
            None => "unexpected end (unbalanced braces or parentheses?)".to_owned(),
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> std::result::Result<(), String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            self.at += 1;
        }
        if self.at == start {
            return Err(format!("an empty name at byte {start}"));
        }
        Ok(())
    }

    fn list(&mut self, depth: usize) -> std::result::Result<(), String> {
        if depth > Self::MAX_DEPTH {
            return Err(format!("nested deeper than {} levels", Self::MAX_DEPTH));
        }
        loop {
            self.field(depth)?;
            if !self.eat(b',') {
                return Ok(());
            }
        }
    }

    fn field(&mut self, depth: usize) -> std::result::Result<(), String> {
        self.name()?;
        while self.eat(b'.') {
            let modifier_at = self.at;
            self.name()?;
            let modifier = &self.s[modifier_at..self.at];
            if !self.eat(b'(') {
                return Err(self.unexpected());
            }
            let arg_at = self.at;
            self.name()?;
            if modifier == b"limit" && !self.s[arg_at..self.at].iter().all(u8::is_ascii_digit) {
                return Err(format!("`.limit(n)` takes a whole number (at byte {arg_at})"));
            }
            if !self.eat(b')') {
                return Err(self.unexpected());
            }
        }
        if self.eat(b'{') {
            self.list(depth + 1)?;
            if !self.eat(b'}') {
                return Err(self.unexpected());
            }
        }
        Ok(())
    }
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

    #[test]
    fn field_expansion() {
        for ok in [
            "id",
            "id,snippet",
            "messages.limit(3){id,created_time,from,to,message}",
            "participants{name},messages.limit(20){id,attachments{image_data}}",
            "messages.limit(5).as(recent){id}",
        ] {
            assert!(field("fields", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ",",
            "id,",
            "a{b",
            "a}",
            "a{}",
            "a.limit(x){id}",
            "a.limit()",
            "a.limit(3",
            "a..b",
            "a{b}}",
            "a b",
            "a=b",
            "a&b",
            "a(b)",
            "{a}",
        ] {
            assert!(field("fields", bad).is_err(), "{bad:?}");
        }
        assert!(field("fields", &format!("{}a{}", "a{".repeat(20), "}".repeat(20))).is_err(), "too deep");
        let e = field("fields", "EAAGsecret{").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!e.contains("EAAGsecret"), "{e}");
    }
}
