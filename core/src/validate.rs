//! Every argument rule, checked before anything is sent, so that a bad id can
//! never reshape a URL or reach the Graph API. The bindings check only their
//! language's types and rely on these for ranges, shapes and lengths.
//!
//! Messages say what is wrong without repeating the value: a token passed by
//! mistake as an id or a folder must not come back in an error.

use std::time::Duration;

use crate::error::{Error, Result};

/// Sets the worker-thread count of the one runtime the Python and Node
/// packages share (tokio's own variable, read when that runtime starts).
pub const WORKER_THREADS_ENV: &str = "TOKIO_WORKER_THREADS";

/// The worker-thread count [`WORKER_THREADS_ENV`] asks for (`None`: unset),
/// read as tokio reads it. Checked here because tokio panics on a bad value
/// when it builds the runtime, which in Node aborts the process: the packages
/// build theirs with this count, and refuse a bad one with a clear error.
pub fn worker_threads_from_env() -> Result<Option<usize>> {
    let Some(value) = std::env::var_os(WORKER_THREADS_ENV) else { return Ok(None) };
    match value.to_str().and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => Ok(Some(n)),
        _ => Err(Error::invalid(
            WORKER_THREADS_ENV,
            "must be a positive integer (the runtime's worker threads) or unset",
        )),
    }
}

/// The Graph API's limit on handover `metadata`.
pub const MAX_METADATA_CHARS: usize = 1000;
/// Conversation Routing's longest extension: seven days.
pub const MAX_EXTEND_SECONDS: u64 = 7 * 24 * 60 * 60;
pub const MAX_PAGE_SIZE: u32 = 100;
/// The one bound on `max_retries`, the same in every language.
pub const MAX_RETRIES_LIMIT: u32 = 100;
/// Graph ids are decimal integers; 32 digits leaves room for any of them.
pub const MAX_NUMERIC_ID_DIGITS: usize = 32;
/// The longest field expression or tag accepted (a query stays well under
/// the URL limits of proxies even with many of them).
pub const MAX_FIELD_CHARS: usize = 1000;
/// How many fields or tags one call may ask for.
pub const MAX_FIELD_COUNT: usize = 100;

/// An opaque id (a conversation or message id): non-empty, at most 256
/// bytes, no `/ ? # & % \`, whitespace or control characters, and not a dot
/// segment (`.`, `..`), any of which would reshape the URL path.
pub fn id(argument: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(argument, "must not be empty"));
    }
    if value.len() > 256 {
        return Err(Error::out_of_range(argument, "is longer than 256 bytes"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(argument, "must not be a dot segment (. or ..)"));
    }
    if value.chars().any(|c| matches!(c, '/' | '?' | '#' | '&' | '%' | '\\') || c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(argument, "must not contain / ? # & % \\, whitespace or control characters"));
    }
    Ok(())
}

/// A numeric Graph id. Meta's references type every id this client sends as
/// a "numeric string": the thread-control edges' `recipient.id` (the PSID, or
/// an Instagram IGSID; https://developers.facebook.com/docs/graph-api/reference/page/take_thread_control/),
/// `target_app_id` (an app id), and the Page's own `id`
/// (https://developers.facebook.com/docs/graph-api/reference/page). Digits
/// only: this also rules out every character that could reshape a URL.
pub fn numeric_id(argument: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(argument, "must not be empty"));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(argument, "must be a numeric id (digits only)"));
    }
    if value.len() > MAX_NUMERIC_ID_DIGITS {
        return Err(Error::out_of_range(argument, format!("is longer than {MAX_NUMERIC_ID_DIGITS} digits")));
    }
    Ok(())
}

/// A PSID (or an Instagram IGSID): numeric.
pub fn psid(value: &str) -> Result<()> {
    numeric_id("psid", value)
}

/// An app id: numeric.
pub fn app_id(argument: &'static str, value: &str) -> Result<()> {
    numeric_id(argument, value)
}

/// A Page id: `me` (the Page the token belongs to) or numeric.
pub fn page_id(value: &str) -> Result<()> {
    if value == "me" {
        return Ok(());
    }
    numeric_id("page_id", value).map_err(|_| Error::invalid("page_id", "must be \"me\" or a numeric Page id"))
}

pub fn metadata(value: Option<&str>) -> Result<()> {
    if let Some(m) = value {
        let n = m.chars().count();
        if n > MAX_METADATA_CHARS {
            return Err(Error::out_of_range(
                "metadata",
                format!("is {n} characters; the Graph API accepts at most {MAX_METADATA_CHARS}"),
            ));
        }
    }
    Ok(())
}

pub fn duration(seconds: u64) -> Result<()> {
    if seconds == 0 || seconds > MAX_EXTEND_SECONDS {
        return Err(Error::out_of_range(
            "duration",
            format!("must be between 1 and {MAX_EXTEND_SECONDS} seconds (7 days)"),
        ));
    }
    Ok(())
}

/// A duration given as a number of seconds (Python's ints and timedeltas,
/// Node's numbers): whole, and within `duration`'s bounds.
pub fn duration_secs(seconds: f64) -> Result<Duration> {
    let n = whole("duration", seconds)?;
    let secs = u64::try_from(n).unwrap_or(0);
    duration(secs)?;
    Ok(Duration::from_secs(secs))
}

/// The slowest pace an export takes: one call a day. A slower one would be a
/// wait no clock can hold (`1e-308` calls per second overflowed the pacer).
pub const MIN_CALLS_PER_SECOND: f64 = 1.0 / 86_400.0;

pub fn max_calls_per_second(rate: f64) -> Result<()> {
    if rate.is_nan() {
        return Err(Error::invalid("max_calls_per_second", "must be a number (None turns pacing off)"));
    }
    if !(MIN_CALLS_PER_SECOND..=f64::MAX).contains(&rate) {
        return Err(Error::out_of_range(
            "max_calls_per_second",
            "must be at least one call a day (1/86400) and finite (None turns pacing off)",
        ));
    }
    Ok(())
}

/// An export's checkpoint path, refused when the export is made rather than
/// when it is written: not empty, no NUL.
pub fn checkpoint(path: &std::path::Path) -> Result<()> {
    let os = path.as_os_str();
    if os.is_empty() || os.as_encoded_bytes().contains(&0) {
        return Err(Error::invalid("checkpoint", "must be a file path (not empty, no NUL)"));
    }
    Ok(())
}

pub fn page_size(value: u32) -> Result<()> {
    if value == 0 || value > MAX_PAGE_SIZE {
        return Err(Error::out_of_range("page_size", format!("must be between 1 and {MAX_PAGE_SIZE}")));
    }
    Ok(())
}

pub fn max_retries(value: i64) -> Result<u32> {
    match u32::try_from(value) {
        Ok(n) if n <= MAX_RETRIES_LIMIT => Ok(n),
        _ => Err(Error::out_of_range("max_retries", format!("must be between 0 and {MAX_RETRIES_LIMIT}"))),
    }
}

/// Connections in flight per client: at least 1, at most what a tokio
/// semaphore can count.
pub fn max_connections(value: i64) -> Result<usize> {
    match usize::try_from(value) {
        Ok(n) if (1..=tokio::sync::Semaphore::MAX_PERMITS).contains(&n) => Ok(n),
        _ => Err(Error::out_of_range("max_connections", "must be at least 1")),
    }
}

pub fn max_response_bytes(value: i64) -> Result<usize> {
    match usize::try_from(value) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::out_of_range("max_response_bytes", "must be at least 1")),
    }
}

/// A number of seconds as the bindings receive it (a float): finite and
/// not negative. Whether zero is allowed is the caller's rule.
pub fn seconds(argument: &'static str, value: f64) -> Result<Duration> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::out_of_range(argument, "must be a finite, non-negative duration"));
    }
    Duration::try_from_secs_f64(value)
        .map_err(|_| Error::out_of_range(argument, "must be a finite, non-negative duration"))
}

/// A whole number given as a float (JavaScript has no integers): refused
/// when it has a fraction or is not finite; saturated to `i64` otherwise,
/// so that a huge value stays out of every range.
pub fn whole(argument: &'static str, value: f64) -> Result<i64> {
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(Error::out_of_range(argument, "must be a whole number"));
    }
    // `as` saturates at the i64 bounds, which is what is wanted here.
    Ok(value as i64)
}

/// Fields or tags: at most [`MAX_FIELD_COUNT`], each a valid [`field`].
pub fn fields(argument: &'static str, values: &[String]) -> Result<()> {
    if values.len() > MAX_FIELD_COUNT {
        return Err(Error::out_of_range(argument, format!("must hold at most {MAX_FIELD_COUNT} names")));
    }
    values.iter().try_for_each(|v| field(argument, v))
}

/// A field or tag: a Graph field expression (`participants{name}`,
/// `messages.limit(5){id,message}`) with balanced braces and parentheses,
/// never anything that could break out of a query value. Field expansion
/// syntax: https://developers.facebook.com/docs/graph-api/guides/field-expansion/
pub fn field(argument: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(argument, "must not contain an empty name"));
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(Error::out_of_range(argument, format!("holds a name longer than {MAX_FIELD_CHARS} characters")));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.{}():,".contains(c);
    if !value.chars().all(ok) {
        return Err(Error::invalid(argument, "may hold only letters, digits and _ . { } ( ) : ,"));
    }
    let mut open = Vec::new();
    for c in value.chars() {
        match c {
            '{' | '(' => open.push(c),
            '}' if open.pop() != Some('{') => return Err(unbalanced(argument)),
            ')' if open.pop() != Some('(') => return Err(unbalanced(argument)),
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(unbalanced(argument));
    }
    // Then the shape: names, `.modifier(arg)`, nested `{...}` lists.
    let mut parser = FieldParser { s: value.as_bytes(), at: 0 };
    parser
        .list(0)
        .and_then(|()| if parser.at == parser.s.len() { Ok(()) } else { Err(parser.unexpected()) })
        .map_err(|why| Error::invalid(argument, format!("is not a Graph field expression: {why}")))
}

fn unbalanced(argument: &'static str) -> Error {
    Error::invalid(argument, "has unbalanced braces or parentheses")
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

/// A cursor is opaque, but it goes into a query: no whitespace or control
/// characters, and a sane length.
pub fn cursor(value: &str) -> Result<()> {
    if value.len() > 4096 {
        return Err(Error::out_of_range("after", "is longer than 4096 bytes"));
    }
    if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid("after", "is not a paging cursor"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(psid("1234567890").is_ok());
        for bad in ["", "1/2", "1?x", "a#b", "a&b", "a b", "a\nb", "a\0b", "%2F", "..", "12a", "1\\2"] {
            assert!(psid(bad).is_err(), "{bad:?}");
        }
        assert!(page_id("me").is_ok());
        assert!(page_id("104729384756102").is_ok());
        for bad in [".", "..", "me\\..\\..\\evil", "a/b", ""] {
            assert!(page_id(bad).is_err(), "{bad:?}");
            assert!(id("conversation_id", bad).is_err(), "{bad:?}");
        }
        assert!(id("conversation_id", "t_10224").is_ok());
        assert!(app_id("target_app_id", "263902037430900").is_ok());
        assert!(app_id("target_app_id", "12a").is_err());
    }

    #[test]
    fn bounds() {
        assert!(duration(0).is_err());
        assert!(duration(604_800).is_ok());
        assert!(duration(604_801).is_err());
        assert!(duration_secs(1.5).is_err());
        assert!(duration_secs(-1.0).is_err());
        assert!(duration_secs(60.0).is_ok());
        assert!(metadata(Some(&"x".repeat(1001))).is_err());
        assert!(page_size(101).is_err());
        assert!(max_retries(101).is_err());
        assert!(max_retries(-1).is_err());
        assert_eq!(max_retries(100).ok(), Some(100));
        assert!(max_response_bytes(0).is_err());
        assert!(seconds("timeout", f64::NAN).is_err());
        assert!(whole("x", 1e300).is_ok_and(|n| n == i64::MAX));
        assert!(field("fields", "participants{name,id}").is_ok());
        assert!(field("fields", "messages.limit(5){id,message}").is_ok());
        assert!(field("fields", "participants{name").is_err());
        assert!(field("fields", "a)(").is_err());
        assert!(field("fields", "a&b").is_err());
        assert!(field("fields", &"x".repeat(100_000)).is_err());
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
