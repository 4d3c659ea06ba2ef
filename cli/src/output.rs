//! How results are shown: a table on a terminal, tab-separated text in a
//! pipe, JSON lines with `--json`.

use std::io::{IsTerminal, Write};

use messenger_handover::Conversation;
use serde_json::Value;

use crate::exit::CliError;

/// Chosen once per run, as gh does: `--json` wins; otherwise a terminal
/// gets the human form and a pipe or file gets plain tab-separated fields
/// without a header, colour or truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Human,
    Plain,
    Json,
}

impl Mode {
    pub fn detect(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if std::io::stdout().is_terminal() {
            Mode::Human
        } else {
            Mode::Plain
        }
    }
}

/// Writes whole lines to stdout. A closed pipe (`| head`) ends the run
/// quietly, as it does for other Unix tools.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::StdoutClosed),
        other => other.map_err(|e| CliError::io("stdout", e)),
    }
}

pub fn json_line(value: &Value) -> String {
    let mut s = value.to_string();
    s.push('\n');
    s
}

/// A Graph object as one line of JSON, as it came.
pub fn raw_line(raw: &messenger_handover::RawObject) -> String {
    let mut s = String::with_capacity(raw.as_str().len() + 1);
    s.push_str(raw.as_str());
    s.push('\n');
    s
}

/// A field as one cell: tabs and line breaks become spaces.
pub fn cell(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Shortens `text` to `max` characters for a terminal, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// A small fixed-width table: every column but the last is padded.
pub struct Table {
    widths: Vec<usize>,
}

impl Table {
    pub fn new(widths: &[usize]) -> Table {
        Table { widths: widths.to_vec() }
    }

    pub fn row(&self, cells: &[&str]) -> String {
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            match self.widths.get(i) {
                Some(w) if i + 1 < cells.len() => {
                    let text = truncate(c, *w);
                    line.push_str(&format!("{text:<w$}  "));
                }
                _ => line.push_str(c),
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        line
    }
}

/// The conversation list's columns, in every mode but JSON.
pub const CONVERSATION_HEADER: [&str; 6] = ["ID", "UPDATED", "FOLDER", "MESSAGES", "UNREAD", "SNIPPET"];
const CONVERSATION_WIDTHS: [usize; 5] = [20, 16, 9, 8, 6];

pub fn conversation_table() -> Table {
    Table::new(&CONVERSATION_WIDTHS)
}

/// One conversation as a table row (human) or tab-separated line (plain).
pub fn conversation_line(c: &Conversation, mode: Mode, table: &Table) -> String {
    let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let folder = c.folder.clone().unwrap_or_default();
    let snippet = cell(c.snippet.as_deref().unwrap_or_default());
    match mode {
        Mode::Human => {
            let updated = c.updated_time.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            table.row(&[
                &c.id,
                &updated,
                &folder,
                &count(c.message_count),
                &count(c.unread_count),
                &truncate(&snippet, 60),
            ])
        }
        _ => {
            let updated = c.updated_time.map(|t| t.to_rfc3339()).unwrap_or_default();
            let fields = [cell(&c.id), updated, cell(&folder), count(c.message_count), count(c.unread_count), snippet];
            let mut line = fields.join("\t");
            line.push('\n');
            line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_all_but_last() {
        let t = Table::new(&[4, 3]);
        assert_eq!(t.row(&["ab", "c", "last one"]), "ab    c    last one\n");
        assert_eq!(t.row(&["abcdefg", "", ""]), "abc…\n");
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a\tb\nc"), "a b c");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
