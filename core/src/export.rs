//! The inbox export: every requested folder x platform walked once, each
//! conversation yielded once, paced per Page, resumable through a checkpoint
//! (see `checkpoint.rs`). The walk's logic lives here once; the bindings
//! only add their idioms (DataFrames, progress bars, `for await`).

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{Conversation, Folder, Platform};
use crate::pacing::Pacer;
use crate::paging::{ConversationPager, ConversationsQuery, DEFAULT_FIELDS};

/// Graph allows the conversations API about 2 calls per second per Page
/// (https://developers.facebook.com/docs/messenger-platform/conversations).
pub const DEFAULT_EXPORT_CALLS_PER_SECOND: f64 = 2.0;

/// What to export. `ExportOptions::default()` is DESIGN's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// Default: all four.
    pub folders: Vec<Folder>,
    /// Default: Messenger.
    pub platforms: Vec<Platform>,
    /// Default: [`DEFAULT_FIELDS`] (every typed field of a Conversation).
    pub fields: Vec<String>,
    /// The newest 1 to 20 messages of each conversation; 0: none.
    pub messages: u32,
    /// Stop each walk at the first conversation updated before this.
    pub since: Option<DateTime<Utc>>,
    /// Makes `write_jsonl` resumable (see [`Export::write_jsonl`]).
    pub checkpoint: Option<PathBuf>,
    /// Pacing per Page; `None` turns it off (benchmarks, tests).
    pub max_calls_per_second: Option<f64>,
    /// Conversations per call, 1 to 100.
    pub page_size: u32,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            folders: Folder::ALL.to_vec(),
            platforms: vec![Platform::Messenger],
            fields: Vec::new(),
            messages: 0,
            since: None,
            checkpoint: None,
            max_calls_per_second: Some(DEFAULT_EXPORT_CALLS_PER_SECOND),
            page_size: crate::validate::MAX_PAGE_SIZE,
        }
    }
}

/// What an export did so far (cumulative across resumed runs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportStats {
    /// HTTP calls started (a page prefetched and then not needed counts).
    pub calls: u64,
    /// Pages read.
    pub pages: u64,
    /// Conversations handed out (or written).
    pub conversations: u64,
    /// Conversations seen a second time (moved to the top mid-walk) and dropped.
    pub duplicates_dropped: u64,
    /// Time spent waiting for the pacing.
    #[serde(with = "duration_secs")]
    pub time_waited: Duration,
}

mod duration_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = <f64 as serde::Deserialize>::deserialize(d)?;
        Ok(Duration::try_from_secs_f64(secs).unwrap_or_default())
    }
}

/// Where a walk stands: which folder x platform, and the pager's resume point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct WalkPosition {
    pub walk: usize,
    pub after: Option<String>,
}

/// A running export: iterate it ([`next`](Self::next), [`into_stream`](Self::into_stream))
/// or write it ([`write_jsonl`](Self::write_jsonl)).
pub struct Export {
    pub(crate) client: Client,
    pub(crate) options: ExportOptions,
    walks: Vec<(Folder, Platform)>,
    fields: Vec<String>,
    position: WalkPosition,
    pager: Option<ConversationPager>,
    buffer: VecDeque<Conversation>,
    consumed: usize,
    pub(crate) seen: HashSet<String>,
    pacer: Arc<Pacer>,
    /// Stats of earlier runs (from a checkpoint) and of this one.
    pub(crate) base_stats: ExportStats,
    pages: u64,
    conversations: u64,
    duplicates: u64,
    done: bool,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export").field("options", &self.options).field("stats", &self.stats()).finish_non_exhaustive()
    }
}

impl Client {
    /// Exports the Page's inbox. Arguments are checked now; nothing is sent
    /// until the first conversation is asked for.
    pub fn export_conversations(&self, options: ExportOptions) -> Result<Export> {
        Export::new(self.clone(), options)
    }
}

impl Export {
    fn new(client: Client, options: ExportOptions) -> Result<Self> {
        if options.folders.is_empty() {
            return Err(Error::invalid("folders", "must name at least one folder"));
        }
        if options.platforms.is_empty() {
            return Err(Error::invalid("platforms", "must name at least one platform"));
        }
        if let Some(rate) = options.max_calls_per_second {
            crate::validate::max_calls_per_second(rate)?;
        }
        if let Some(path) = &options.checkpoint {
            crate::validate::checkpoint(path)?;
        }
        let fields: Vec<String> = if options.fields.is_empty() {
            DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()).collect()
        } else {
            options.fields.clone()
        };
        let mut walks = Vec::new();
        for p in dedup(&options.platforms) {
            for f in dedup(&options.folders) {
                walks.push((f, p));
            }
        }
        let export = Export {
            pacer: Arc::new(Pacer::new(options.max_calls_per_second)),
            client,
            walks,
            fields,
            position: WalkPosition::default(),
            pager: None,
            buffer: VecDeque::new(),
            consumed: 0,
            seen: HashSet::new(),
            base_stats: ExportStats::default(),
            pages: 0,
            conversations: 0,
            duplicates: 0,
            done: false,
            options,
        };
        // Every argument rule runs now, before anything is sent.
        export.query(0, None)?.to_params()?;
        Ok(export)
    }

    fn query(&self, walk: usize, after: Option<String>) -> Result<ConversationsQuery> {
        let Some(&(folder, platform)) = self.walks.get(walk) else {
            return Err(Error::invalid("checkpoint", "names a walk this export does not have"));
        };
        let mut q = ConversationsQuery::new()
            .folder(folder)
            .platform(platform)
            .fields(self.fields.clone())
            .page_size(self.options.page_size);
        if self.options.messages > 0 {
            q = q.messages(self.options.messages);
        }
        q.after = after;
        Ok(q)
    }

    /// The folder x platform pairs walked, in order.
    pub fn walks(&self) -> &[(Folder, Platform)] {
        &self.walks
    }

    /// The stats so far (earlier runs included when resumed from a checkpoint).
    pub fn stats(&self) -> ExportStats {
        let b = &self.base_stats;
        ExportStats {
            calls: b.calls + self.pacer.calls(),
            pages: b.pages + self.pages,
            conversations: b.conversations + self.conversations,
            duplicates_dropped: b.duplicates_dropped + self.duplicates,
            time_waited: b.time_waited + self.pacer.waited(),
        }
    }

    /// True once every walk has ended.
    pub fn is_finished(&self) -> bool {
        self.done
    }

    /// Where to resume: after every conversation handed out so far.
    pub(crate) fn position(&self) -> WalkPosition {
        match &self.pager {
            Some(p) => WalkPosition { walk: self.position.walk, after: p.position().resume_after(self.consumed) },
            None => self.position.clone(),
        }
    }

    pub(crate) fn restore(&mut self, position: WalkPosition, stats: ExportStats, done: bool) {
        self.position = position;
        self.base_stats = stats;
        self.done = done || self.position.walk >= self.walks.len();
    }

    /// True when the last conversation handed out ended a page (a good
    /// moment to commit a checkpoint).
    pub(crate) fn at_page_end(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The next conversation already fetched, without sending anything (and
    /// without awaiting): `None` when the next one needs a page fetched or
    /// every walk has ended. Bindings hand out a fetched page this way, one
    /// native call per page instead of one await per conversation.
    pub fn next_buffered(&mut self) -> Option<Conversation> {
        while !self.done {
            let mut conv = self.buffer.pop_front()?;
            self.consumed += 1;
            let Some(&(folder, platform)) = self.walks.get(self.position.walk) else {
                self.done = true;
                continue;
            };
            if let (Some(since), Some(t)) = (self.options.since, conv.updated_time) {
                // The edge is newest first: everything after this is older too.
                if t < since {
                    self.end_walk();
                    continue;
                }
            }
            if !self.seen.insert(conv.id.clone()) {
                self.duplicates += 1;
                continue;
            }
            conv.folder = Some(folder.as_str().to_owned());
            conv.platform = Some(platform.as_str().to_owned());
            conv.raw
                .insert_all([("folder", Value::from(folder.as_str())), ("platform", Value::from(platform.as_str()))]);
            self.conversations += 1;
            return Some(conv);
        }
        None
    }

    /// Puts back `conv`, the conversation [`next`](Self::next) or
    /// [`next_buffered`](Self::next_buffered) handed out last, for a caller
    /// that never received it (a binding whose await was cancelled after the
    /// conversation came): the next read hands it out again, and the stats
    /// and the resume point stand as if it had never been read.
    pub fn unread(&mut self, conv: Conversation) {
        if !self.seen.remove(&conv.id) {
            return; // not one this export handed out
        }
        self.conversations -= 1;
        self.consumed = self.consumed.saturating_sub(1);
        self.buffer.push_front(conv);
    }

    /// The next conversation (each id once), with `folder` and `platform`
    /// filled in, or `None` when every walk has ended.
    pub async fn next(&mut self) -> Result<Option<Conversation>> {
        loop {
            if let Some(conv) = self.next_buffered() {
                return Ok(Some(conv));
            }
            if self.done {
                return Ok(None);
            }
            if self.pager.is_none() {
                let after = self.position.after.take();
                let query = self.query(self.position.walk, after)?;
                self.pager = Some(query.into_pager(self.client.clone(), Some(self.pacer.clone()))?);
            }
            let Some(pager) = self.pager.as_mut() else { continue };
            match pager.next_page().await? {
                Some(page) => {
                    self.pages += 1;
                    self.consumed = 0;
                    self.buffer.extend(page.items);
                }
                None => self.end_walk(),
            }
        }
    }

    fn end_walk(&mut self) {
        self.pager = None;
        self.buffer.clear();
        self.consumed = 0;
        self.position = WalkPosition { walk: self.position.walk + 1, after: None };
        if self.position.walk >= self.walks.len() {
            self.done = true;
        }
    }

    /// Every conversation, as a `Stream`; ends after the first error.
    pub fn into_stream(self) -> impl Stream<Item = Result<Conversation>> + Send {
        futures_util::stream::unfold((self, false), |(mut export, failed)| async move {
            if failed {
                return None;
            }
            match export.next().await {
                Ok(Some(c)) => Some((Ok(c), (export, false))),
                Ok(None) => None,
                Err(e) => Some((Err(e), (export, true))),
            }
        })
    }
}

fn dedup<T: PartialEq + Copy>(list: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in list {
        if !out.contains(x) {
            out.push(*x);
        }
    }
    out
}
