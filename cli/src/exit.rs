//! Exit codes (one per error kind) and the one-line error report.

use messenger_handover::{Error, ErrorKind};

/// One row of the exit-code table `--help` prints.
pub struct ExitCodeRow {
    pub code: i32,
    /// The error kinds (the core's `kind` strings, plus the command's own) that end with this code.
    pub kinds: &'static [&'static str],
    pub meaning: &'static str,
}

pub const SUCCESS: i32 = 0;
pub const USAGE: i32 = 2;
pub const INTERRUPTED: i32 = 130;

/// The only place exit codes are defined: `--help`, the error report and the
/// tests all read this table.
pub const EXIT_CODES: &[ExitCodeRow] = &[
    ExitCodeRow { code: SUCCESS, kinds: &[], meaning: "success" },
    ExitCodeRow { code: 1, kinds: &["io"], meaning: "a local file could not be read or written" },
    ExitCodeRow {
        code: USAGE,
        kinds: &["usage", "invalid_input"],
        meaning: "bad arguments or no token; nothing was sent",
    },
    ExitCodeRow { code: 3, kinds: &["invalid_parameter"], meaning: "the Graph API refused a parameter" },
    ExitCodeRow { code: 4, kinds: &["auth"], meaning: "the token is invalid or expired" },
    ExitCodeRow { code: 5, kinds: &["permission"], meaning: "the app lacks a permission or role" },
    ExitCodeRow { code: 6, kinds: &["thread_control"], meaning: "the thread-control call is not allowed now" },
    ExitCodeRow { code: 7, kinds: &["rate_limit"], meaning: "throttled; retry later" },
    ExitCodeRow { code: 8, kinds: &["blocked"], meaning: "the call was blocked as abusive" },
    ExitCodeRow { code: 9, kinds: &["server"], meaning: "the Graph API failed (5xx or transient)" },
    ExitCodeRow { code: 10, kinds: &["transport"], meaning: "no answer: connection, TLS or timeout" },
    ExitCodeRow { code: 11, kinds: &["protocol"], meaning: "the answer was not what the endpoint promises" },
    ExitCodeRow {
        code: INTERRUPTED,
        kinds: &["interrupted"],
        meaning: "Ctrl-C or SIGTERM; files hold whole lines only",
    },
];

/// The exit code of an error kind; 1 for a kind the table does not know.
pub fn code_for(kind: &str) -> i32 {
    EXIT_CODES.iter().find(|row| row.kinds.contains(&kind)).map_or(1, |row| row.code)
}

/// The table as `--help` shows it.
pub fn help_table() -> String {
    let mut out = String::from("Exit codes:\n");
    for row in EXIT_CODES {
        let kinds = if row.kinds.is_empty() { String::new() } else { format!("{}: ", row.kinds.join(", ")) };
        out.push_str(&format!("  {:>3}  {kinds}{}\n", row.code, row.meaning));
    }
    out
}

/// Every way the command can fail.
#[derive(Debug)]
pub enum CliError {
    /// An error of the core: a Graph error, a transport or protocol failure, a refused argument.
    Core(Error),
    /// Bad arguments found by the command itself (clap's errors, a missing token).
    Usage(String),
    /// A local file; `what` names it (never its content).
    Io {
        what: String,
        source: std::io::Error,
    },
    Interrupted,
    /// Stdout was closed (`| head`): the reader has what it wanted.
    StdoutClosed,
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

impl CliError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io { what: what.into(), source }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.kind().as_str(),
            CliError::Usage(_) => "usage",
            CliError::Io { .. } => "io",
            CliError::Interrupted => "interrupted",
            CliError::StdoutClosed => "stdout_closed",
        }
    }

    pub fn exit_code(&self) -> i32 {
        if matches!(self, CliError::StdoutClosed) {
            return SUCCESS;
        }
        code_for(self.kind())
    }

    /// The report: one line, `messenger-handover: KIND: what happened (code, fbtrace_id)`,
    /// with every occurrence of `secret` (the token) replaced.
    pub fn report(&self, secrets: &[&str]) -> String {
        let detail = match self {
            CliError::Core(Error::Graph(g)) => {
                let mut s = g.to_string();
                if g.kind == ErrorKind::RateLimit {
                    if let Some(wait) = g.retry_after {
                        s.push_str(&format!("; retry after {}s", wait.as_secs().max(1)));
                    }
                }
                s
            }
            CliError::Core(Error::Transport { message, .. }) => message.clone(),
            CliError::Core(Error::Protocol { message, http_status: Some(status) }) => {
                format!("{message} (HTTP {status})")
            }
            CliError::Core(Error::Protocol { message, http_status: None }) => message.clone(),
            CliError::Core(e @ Error::InvalidInput { .. }) => e.to_string(),
            CliError::Usage(m) => format!("{m} (see --help)"),
            CliError::Io { what, source } => format!("{what}: {source}"),
            CliError::Interrupted => "interrupted; files hold whole lines only".to_owned(),
            CliError::StdoutClosed => "stdout was closed".to_owned(),
        };
        let line = format!("messenger-handover: {}: {detail}", self.kind());
        one_line(&redact(&line, secrets))
    }
}

/// Replaces every occurrence of each (non-trivial) secret.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        out = out.replace(*s, "[redacted]");
    }
    out
}

/// Line breaks from a server's message must not split the report.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_its_own_code() {
        // Every kind the server side can produce; invalid input is a usage error.
        let kinds: Vec<ErrorKind> = ErrorKind::ALL.into_iter().filter(|k| *k != ErrorKind::InvalidInput).collect();
        let mut codes: Vec<i32> = kinds.iter().map(|k| code_for(k.as_str())).collect();
        assert!(codes.iter().all(|c| *c > USAGE && *c < INTERRUPTED));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert_eq!(code_for(ErrorKind::InvalidInput.as_str()), USAGE);
        assert_eq!(code_for("usage"), USAGE);
    }

    #[test]
    fn report_is_one_redacted_line() {
        let e = CliError::Usage("bad\nvalue EAAGsecret-token".to_owned());
        let line = e.report(&["EAAGsecret-token"]);
        assert!(!line.contains('\n'));
        assert!(!line.contains("EAAGsecret-token"));
        assert!(line.starts_with("messenger-handover: usage: "));
    }
}
