//! `conversations` (and the sink `export` writes CSV or plain JSONL through):
//! walk the core's pager folder by folder and write what it yields, whole
//! lines at a time, until done, the limit, or Ctrl-C.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use messenger_handover::{Client, Conversation, ConversationsQuery, Folder};
use serde_json::Value;

use crate::exit::{redact, CliError};
use crate::output::{self, Mode, Table};

/// What to walk: one query per folder, in order.
pub struct Walk {
    pub queries: Vec<ConversationsQuery>,
    /// Stop after this many conversations.
    pub limit: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub conversations: u64,
    pub pages: u64,
    pub duplicates: u64,
    pub interrupted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format, CliError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            _ => Err(CliError::Usage(format!("--out {}: the name must end in .jsonl or .csv", path.display()))),
        }
    }
}

/// Where the conversations go, and what must never reach it.
pub struct Sink {
    to: Target,
    /// Graph puts the token in every `paging.next` URL, nested ones too
    /// (`messages{...}` inline): written data is scrubbed of it.
    secrets: Vec<String>,
}

pub enum Target {
    Stdout { mode: Mode, table: Table, header_done: bool },
    File { path: PathBuf, file: File, format: Format, columns: Vec<String>, header_done: bool },
}

impl Sink {
    pub fn stdout(mode: Mode, secrets: &[String]) -> Sink {
        let to = Target::Stdout { mode, table: output::conversation_table(), header_done: false };
        Sink { to, secrets: secrets.to_vec() }
    }

    /// The file written, if any.
    pub fn path(&self) -> Option<&Path> {
        match &self.to {
            Target::File { path, .. } => Some(path),
            Target::Stdout { .. } => None,
        }
    }

    /// Creates (or truncates) `path`; `columns` are the CSV columns (the requested fields' names).
    pub fn file(path: &Path, mut columns: Vec<String>, secrets: &[String]) -> Result<Sink, CliError> {
        let format = Format::from_path(path)?;
        let file = File::create(path).map_err(|e| CliError::io(format!("--out {}", path.display()), e))?;
        if !columns.iter().any(|c| c == "folder") {
            columns.push("folder".to_owned());
        }
        let to = Target::File { path: path.to_owned(), file, format, columns, header_done: false };
        Ok(Sink { to, secrets: secrets.to_vec() })
    }

    /// Writes one page's conversations in a single write, so that an
    /// interrupted run leaves whole lines only.
    pub fn write(&mut self, items: &[Conversation]) -> Result<(), CliError> {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        match &mut self.to {
            Target::Stdout { mode, table, header_done } => {
                let mut text = String::new();
                if *mode == Mode::Human && !*header_done {
                    text.push_str(&table.row(&output::CONVERSATION_HEADER));
                }
                *header_done = true;
                for c in items {
                    text.push_str(&match mode {
                        Mode::Json => output::raw_line(&c.raw),
                        _ => output::conversation_line(c, *mode, table),
                    });
                }
                output::emit(&redact(&text, &secrets))
            }
            Target::File { path, file, format, columns, header_done } => {
                let buf = match format {
                    Format::Jsonl => items.iter().map(|c| output::raw_line(&c.raw)).collect::<String>(),
                    Format::Csv => csv_rows(items, columns, !*header_done)?,
                };
                *header_done = true;
                let buf = redact(&buf, &secrets);
                file.write_all(buf.as_bytes()).map_err(|e| CliError::io(format!("--out {}", path.display()), e))
            }
        }
    }

    pub fn finish(&mut self) -> Result<(), CliError> {
        if let Target::File { path, file, .. } = &mut self.to {
            file.sync_all().map_err(|e| CliError::io(format!("--out {}", path.display()), e))?;
        }
        Ok(())
    }
}

fn csv_rows(items: &[Conversation], columns: &[String], header: bool) -> Result<String, CliError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| CliError::io("csv", std::io::Error::other(e));
    if header {
        w.write_record(columns).map_err(io)?;
    }
    for c in items {
        let raw = c.raw.to_map();
        let row = columns.iter().map(|col| match raw.get(col) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        w.write_record(row).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| CliError::io("csv", std::io::Error::other(e.to_string())))?;
    String::from_utf8(bytes).map_err(|e| CliError::io("csv", std::io::Error::other(e)))
}

/// The top-level names of a Graph field list: `id,participants{name,id},messages.limit(5){id}`
/// gives id, participants, messages.
pub fn field_names(fields: &str) -> Vec<String> {
    let mut names = Vec::new();
    let (mut depth, mut current, mut in_name) = (0usize, String::new(), true);
    for ch in fields.chars() {
        match ch {
            '{' | '(' => {
                depth += 1;
                in_name = false;
            }
            '}' | ')' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => in_name = false,
            ',' if depth == 0 => {
                names.push(std::mem::take(&mut current));
                in_name = true;
            }
            c if depth == 0 && in_name => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    names.retain(|n| !n.trim().is_empty());
    names.iter().map(|n| n.trim().to_owned()).collect()
}

/// Walks every query in turn. Ctrl-C (or SIGTERM) is only acted on between
/// pages, and each page is written whole, so a file never ends mid-line.
pub async fn run(client: &Client, walk: &Walk, sink: &mut Sink, progress: &ProgressBar) -> Result<Summary, CliError> {
    let mut stop = crate::signals::Interrupt::new().map_err(|e| CliError::io("signal handler", e))?;
    let mut summary = Summary::default();
    let mut seen: HashSet<String> = HashSet::new();
    let dedupe = walk.queries.len() > 1;
    'queries: for query in &walk.queries {
        let folder = query.folder;
        progress.set_message(folder.map_or_else(String::new, |f| f.to_string()));
        let mut pager = client.conversations(query.clone())?;
        loop {
            let page = tokio::select! {
                biased;
                () = stop.recv() => {
                    summary.interrupted = true;
                    break 'queries;
                }
                page = pager.next_page() => page?,
            };
            let Some(page) = page else { break };
            summary.pages += 1;
            let mut keep = Vec::with_capacity(page.items.len());
            for mut c in page.items {
                if walk.limit.is_some_and(|n| summary.conversations >= n) {
                    break;
                }
                // A thread updated mid-walk moves folders and would show twice.
                if dedupe && !seen.insert(c.id.clone()) {
                    summary.duplicates += 1;
                    continue;
                }
                fill_folder(&mut c, folder);
                summary.conversations += 1;
                keep.push(c);
            }
            sink.write(&keep)?;
            progress.set_position(summary.conversations);
            if walk.limit.is_some_and(|n| summary.conversations >= n) {
                break 'queries;
            }
        }
    }
    sink.finish()?;
    Ok(summary)
}

/// The folder walked is the conversation's folder: record it when Graph did not.
fn fill_folder(c: &mut Conversation, folder: Option<Folder>) {
    if let (None, Some(f)) = (&c.folder, folder) {
        c.folder = Some(f.to_string());
        c.raw.insert("folder", Value::from(f.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_field_names() {
        assert_eq!(
            field_names("id,participants{name,id},messages.limit(5){id,from}"),
            ["id", "participants", "messages"]
        );
        assert_eq!(field_names(" id , snippet"), ["id", "snippet"]);
        assert!(field_names("").is_empty());
    }

    #[test]
    fn out_format_from_extension() {
        assert_eq!(Format::from_path(Path::new("a.jsonl")).ok(), Some(Format::Jsonl));
        assert_eq!(Format::from_path(Path::new("a.CSV")).ok(), Some(Format::Csv));
        assert!(Format::from_path(Path::new("a.txt")).is_err());
    }
}
