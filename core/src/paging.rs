//! Cursor paging over Graph edges (conversations, messages), with one page
//! prefetched and a resume point exact to the item ([`Position::resume_after`]).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_core::Stream;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio_util::task::AbortOnDropHandle;
use tracing::instrument::WithSubscriber;

use crate::client::{parse_json, Client};
use crate::error::{Error, Result};
use crate::model::{Conversation, Folder, Page, Platform};
use crate::pacing::Pacer;
use crate::validate;

/// The setters every paged query shares (`fields`, `page_size`, `after`).
macro_rules! paged_query_setters {
    () => {
        pub fn fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
            self.fields = fields.into_iter().map(Into::into).collect();
            self
        }
        /// Items per page, 1 to 100 (checked when the pager is made). Any
        /// integer type: a value outside `u32` is clamped to one that is still
        /// refused, with the same words.
        pub fn page_size<N: TryInto<u32> + PartialOrd + Default + Copy>(mut self, n: N) -> Self {
            self.page_size = Some(n.try_into().unwrap_or(if n < N::default() { 0 } else { u32::MAX }));
            self
        }
        /// Resume from a pager's `after()` (exact to the item).
        pub fn after(mut self, cursor: impl Into<String>) -> Self {
            self.after = Some(cursor.into());
            self
        }
    };
}
pub(crate) use paged_query_setters;

/// The fields asked for when the caller names none but wants messages
/// inline, and by the export: every typed field of a [`Conversation`].
pub const DEFAULT_FIELDS: &[&str] = &[
    "id",
    "updated_time",
    "link",
    "snippet",
    "message_count",
    "unread_count",
    "participants",
    "senders",
    "can_reply",
    "is_subscribed",
    "scoped_thread_key",
];

/// What to list. Every field is optional; build it with the methods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationsQuery {
    pub folder: Option<Folder>,
    pub platform: Option<Platform>,
    pub user_id: Option<String>,
    pub tags: Vec<String>,
    pub fields: Vec<String>,
    /// Items per page (the Graph `limit`), 1 to 100.
    pub page_size: Option<u32>,
    /// Resume from a pager's `after()` of an earlier run (exact to the item).
    pub after: Option<String>,
    /// The newest 1 to 20 messages of each conversation, in the same call.
    pub messages: Option<u32>,
}

impl ConversationsQuery {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn folder(mut self, folder: Folder) -> Self {
        self.folder = Some(folder);
        self
    }
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }
    paged_query_setters!();
    pub fn messages(mut self, n: u32) -> Self {
        self.messages = Some(n);
        self
    }

    /// The pager this query walks, paced by `pacer` when given.
    pub(crate) fn into_pager(self, client: Client, pacer: Option<Arc<Pacer>>) -> Result<ConversationPager> {
        let params = self.to_params()?;
        Pager::open(client, "conversations", params, self.after, pacer)
    }

    /// Checks every argument and renders the fixed part of the query.
    pub(crate) fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut params = Vec::new();
        if let Some(f) = self.folder {
            params.push(("folder", f.as_str().to_owned()));
        }
        if let Some(p) = self.platform {
            params.push(("platform", p.as_str().to_owned()));
        }
        if let Some(u) = &self.user_id {
            // A PSID or IGSID, like `recipient.id`.
            validate::numeric_id("user_id", u)?;
            params.push(("user_id", u.clone()));
        }
        if !self.tags.is_empty() {
            validate::fields("tags", &self.tags)?;
            params.push(("tags", self.tags.join(",")));
        }
        let mut fields = self.fields.clone();
        if let Some(n) = self.messages {
            crate::model::check_inline_limit(n)?;
            if fields.is_empty() {
                fields.extend(DEFAULT_FIELDS.iter().map(|f| (*f).to_owned()));
            }
            fields.push(crate::model::inline_expansion(n));
        }
        if !fields.is_empty() {
            validate::fields("fields", &fields)?;
            params.push(("fields", fields.join(",")));
        }
        if let Some(n) = self.page_size {
            validate::page_size(n)?;
            params.push(("limit", n.to_string()));
        }
        if let Some(a) = &self.after {
            parse_resume_point(a)?;
        }
        Ok(params)
    }
}

// The paged edges live here, beside their pager, so that client.rs does not
// import this module (which imports it).
impl Client {
    /// A pager over the Page's conversations. Arguments are checked now;
    /// nothing is sent until the first page is asked for.
    pub fn conversations(&self, query: ConversationsQuery) -> Result<ConversationPager> {
        ConversationPager::new(self.clone(), query)
    }
}

/// An item of a paged edge: built from its Graph JSON object, known by its id.
pub trait PageItem: Sized + Send + 'static {
    /// The item from its text within the page.
    fn from_raw(text: &RawValue) -> Result<Self>;
    /// The Graph id, which the resume point remembers (hashed).
    fn item_id(&self) -> &str;
}

impl PageItem for Conversation {
    fn from_raw(text: &RawValue) -> Result<Self> {
        Conversation::from_raw(text)
    }
    fn item_id(&self) -> &str {
        &self.id
    }
}

/// A server that keeps announcing a next page but sends nothing is stopped
/// after this many empty pages in a row.
pub const MAX_EMPTY_PAGES: u32 = 10;

/// Where a pager stands: the last page handed out and how much of it was
/// consumed. Cheap to clone, so a binding can keep one beside its own count
/// of items handed to the caller and ask [`resume_after`](Self::resume_after).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    /// The resume point before this page (what `after()` said then).
    origin: Option<String>,
    /// The Graph cursor this page was fetched with.
    request: Option<String>,
    /// This page's own `after` cursor.
    after: Option<String>,
    /// Hashes of the page's item ids as handed out, in order (the hashes are
    /// all a resume token keeps: no copy of every id per page).
    ids: Vec<u64>,
    /// How many of them the pager's own item loop handed out.
    consumed: usize,
    /// The `limit` this page was fetched with (none: Graph's default).
    limit: Option<u32>,
}

/// How many ids a mid-page resume point remembers (hashed, 8 bytes each).
const REMEMBERED_IDS: usize = 8;
const TOKEN_PREFIX: &str = "mh1.";

impl Position {
    fn start(after: Option<String>) -> Self {
        Position { origin: after, ..Position::default() }
    }

    /// The resume point after `consumed` items of the last page handed out
    /// (clamped to the page). Resuming from it yields the next item exactly.
    ///
    /// - the whole page consumed: the page's Graph `after` cursor;
    /// - nothing of it consumed: the resume point it was reached from;
    /// - part of it: a token `mh1.<base64url JSON>` holding the cursor that
    ///   fetched the page and hashes of the last ids handed out; resuming
    ///   re-fetches that page and drops every item up to the last remembered
    ///   one. When none of them is on the page any more (all moved or
    ///   deleted), nothing is dropped: an item may repeat, none is lost.
    pub fn resume_after(&self, consumed: usize) -> Option<String> {
        let n = consumed.min(self.ids.len());
        if n == self.ids.len() {
            if let Some(after) = &self.after {
                return Some(after.clone());
            }
        }
        if n == 0 {
            return self.origin.clone();
        }
        let hashes: Vec<u64> = self.ids[n.saturating_sub(REMEMBERED_IDS)..n].to_vec();
        let token = ResumeToken { c: self.request.clone(), h: hashes, l: self.limit };
        let json = serde_json::to_vec(&token).unwrap_or_default();
        Some(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(json)))
    }

    /// Items of the last page handed out.
    pub fn page_len(&self) -> usize {
        self.ids.len()
    }
}

#[derive(Serialize, Deserialize)]
struct ResumeToken {
    /// The Graph cursor of the page to re-fetch (none: the first page).
    c: Option<String>,
    /// FNV-1a hashes of the last ids handed out of that page.
    h: Vec<u64>,
    /// The page size that page was fetched with: re-fetched with it, the page
    /// holds every item handed out of it, whatever page size the resumed
    /// walk asks for (with a smaller one, items after the first re-fetched
    /// page came again). Absent: Graph's default, or a token made before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<u32>,
}

/// FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Where a walk resumes: the Graph cursor of its first request, the ids to
/// drop from that page, and the page size to fetch it with.
#[derive(Default)]
pub(crate) struct ResumePoint {
    cursor: Option<String>,
    drop: Vec<u64>,
    limit: Option<u32>,
}

/// Splits what a caller passed as `after`: a plain Graph cursor, or one of
/// our mid-page tokens (its cursor, the ids to drop, the page size).
pub(crate) fn parse_resume_point(after: &str) -> Result<ResumePoint> {
    validate::cursor(after)?;
    let Some(encoded) = after.strip_prefix(TOKEN_PREFIX) else {
        return Ok(ResumePoint { cursor: Some(after.to_owned()), ..ResumePoint::default() });
    };
    let bad = || Error::invalid("after", "is not a resume point made by this client (a damaged mh1. token)");
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| bad())?;
    let token: ResumeToken = serde_json::from_slice(&json).map_err(|_| bad())?;
    if token.h.is_empty() || token.h.len() > REMEMBERED_IDS {
        return Err(bad());
    }
    if let Some(c) = &token.c {
        validate::cursor(c)?;
    }
    if let Some(l) = token.l {
        validate::page_size(l).map_err(|_| bad())?;
    }
    Ok(ResumePoint { cursor: token.c, drop: token.h, limit: token.l })
}

/// Walks a paged Graph edge page by page or item by item.
///
/// While the caller handles one page, the next is already being fetched.
/// Dropping the pager cancels that prefetch. [`after`](Self::after) is the
/// resume point after every item handed out so far (exact to the item, see
/// [`Position::resume_after`]); pass it back as the query's `after`.
/// A server that repeats a cursor, or sends more than [`MAX_EMPTY_PAGES`]
/// empty pages in a row while announcing more, stops it with a `protocol` error.
pub struct Pager<T: PageItem> {
    walk: Arc<Walk>,
    /// The Graph cursor of the next request (none: the first page).
    next_request: Option<String>,
    /// Ids to drop from the next page (resuming from a mid-page token).
    pending_drop: Vec<u64>,
    /// The page size of the next request, when it is not the walk's: the
    /// first page of a walk resumed mid-page is fetched as it was then.
    pending_limit: Option<u32>,
    position: Position,
    buffer: VecDeque<T>,
    finished: bool,
    requested: HashSet<String>,
    empty_run: u32,
    /// The fetch of the next page; dropping it cancels it (and the fetch it
    /// may have started after it).
    prefetch: Option<Prefetch<T>>,
}

/// What every request of one walk shares.
struct Walk {
    client: Client,
    edge: Arc<str>,
    params: Vec<(&'static str, String)>,
    pacer: Option<Arc<Pacer>>,
    /// Set while the caller awaits a page. That page's fetch then sends the
    /// next page's request as soon as it has read the cursor, before parsing
    /// the items and handing the page over: the caller has already asked for
    /// this page, so starting the next one now is the same one-page prefetch,
    /// without a round trip through the caller on the critical path.
    waiting: AtomicBool,
}

impl Walk {
    /// The page size every request asks for (none: Graph's default).
    fn limit(&self) -> Option<u32> {
        self.params.iter().find(|(k, _)| *k == "limit").and_then(|(_, v)| v.parse().ok())
    }
}

/// A page being fetched on the runtime.
type Prefetch<T> = AbortOnDropHandle<Fetched<T>>;

/// A fetched page and, when the caller was waiting for it, the fetch of the
/// page after it, already under way.
struct Fetched<T: PageItem> {
    page: Result<Page<T>>,
    next: Option<Prefetch<T>>,
}

/// The conversations of a Page.
pub type ConversationPager = Pager<Conversation>;

impl ConversationPager {
    pub(crate) fn new(client: Client, query: ConversationsQuery) -> Result<Self> {
        query.into_pager(client, None)
    }
}

impl<T: PageItem> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("edge", &self.walk.edge)
            .field("after", &self.after())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<T: PageItem> Pager<T> {
    /// `edge` is a Page edge (`conversations`) or a node's (`/{id}/messages`).
    pub(crate) fn open(
        client: Client,
        edge: impl Into<Arc<str>>,
        params: Vec<(&'static str, String)>,
        after: Option<String>,
        pacer: Option<Arc<Pacer>>,
    ) -> Result<Self> {
        let ResumePoint { cursor: next_request, drop: pending_drop, limit: pending_limit } = match &after {
            Some(a) => parse_resume_point(a)?,
            None => ResumePoint::default(),
        };
        let mut requested = HashSet::new();
        requested.extend(next_request.clone());
        Ok(Pager {
            walk: Arc::new(Walk { client, edge: edge.into(), params, pacer, waiting: AtomicBool::new(false) }),
            next_request,
            pending_drop,
            pending_limit,
            position: Position::start(after),
            buffer: VecDeque::new(),
            finished: false,
            requested,
            empty_run: 0,
            prefetch: None,
        })
    }

    /// The resume point after every item handed out so far (or the one it
    /// started from). Page by page, that is the end of the last page.
    pub fn after(&self) -> Option<String> {
        self.position.resume_after(self.position.consumed)
    }

    /// Where the pager stands, for a caller that hands out a page's items
    /// itself and asks `position().resume_after(n)`.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// True once the last page has been handed out.
    pub fn is_finished(&self) -> bool {
        self.finished && self.buffer.is_empty()
    }

    /// The next page, or `None` after the last one. After a transport or
    /// Graph error the pager stays where it was: calling again retries the
    /// same page. After a `protocol` error for a runaway server it is finished.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>> {
        if !self.buffer.is_empty() {
            // Items a `next_item` loop had not handed out yet.
            let items: Vec<T> = self.buffer.drain(..).collect();
            self.position.consumed = self.position.ids.len();
            return Ok(Some(Page { items, after: self.position.after.clone(), has_next: !self.finished }));
        }
        if self.finished {
            return Ok(None);
        }
        // Whichever fetch is awaited here may start the next one itself.
        self.walk.waiting.store(true, Ordering::Release);
        let fetched = match self.prefetch.take() {
            Some(task) => task.await.unwrap_or_else(|e| Fetched {
                page: Err(Error::Transport {
                    failure: crate::error::TransportFailure::Other,
                    message: format!("page prefetch did not complete: {e}"),
                }),
                next: None,
            }),
            None => fetch(self.walk.clone(), self.next_request.clone(), self.pending_limit).await,
        };
        self.walk.waiting.store(false, Ordering::Release);
        // On an error the fetch it started (if any) is dropped, so cancelled.
        let Fetched { page, next: started } = fetched;
        let mut page = page?;
        self.check_runaway(&page)?;
        if !self.pending_drop.is_empty() {
            let drop = std::mem::take(&mut self.pending_drop);
            if let Some(last) = page.items.iter().rposition(|item| drop.contains(&id_hash(item.item_id()))) {
                page.items.drain(..=last);
            }
        }
        let origin = self.after();
        self.position = Position {
            origin,
            request: self.next_request.take(),
            after: page.after.clone(),
            ids: page.items.iter().map(|item| id_hash(item.item_id())).collect(),
            consumed: page.items.len(),
            limit: self.pending_limit.take().or_else(|| self.walk.limit()),
        };
        match (&page.after, page.has_next) {
            (Some(next), true) => {
                self.requested.insert(next.clone());
                self.next_request = Some(next.clone());
                self.prefetch = started.or_else(|| spawn_fetch(&self.walk, next.clone()));
            }
            _ => self.finished = true,
        }
        Ok(Some(page))
    }

    /// What [`next_page`](Self::next_page) would return, when it can answer
    /// without waiting (items buffered, the prefetched page arrived, or the
    /// walk is over); `None` when it must await. A binding hands a prefetched
    /// page over this way on its caller's thread, skipping the hop to the
    /// runtime and back. Call it inside the runtime (`Handle::enter`), or the
    /// following prefetch does not start.
    pub fn next_page_ready(&mut self) -> Option<Result<Option<Page<T>>>> {
        let ready = !self.buffer.is_empty()
            || self.finished
            || self.prefetch.as_ref().is_some_and(AbortOnDropHandle::is_finished);
        if !ready {
            return None;
        }
        // Nothing in next_page awaits once the prefetch has finished.
        self.next_page().now_or_never()
    }

    /// Refuses a page that would make the walk endless.
    fn check_runaway(&mut self, page: &Page<T>) -> Result<()> {
        if !page.has_next {
            return Ok(());
        }
        if page.items.is_empty() {
            self.empty_run += 1;
            if self.empty_run > MAX_EMPTY_PAGES {
                self.finished = true;
                return Err(Error::protocol(
                    format!("the server sent {} empty pages in a row while announcing more; stopping", self.empty_run),
                    Some(200),
                ));
            }
        } else {
            self.empty_run = 0;
        }
        match &page.after {
            Some(next) if self.requested.contains(next) => {
                self.finished = true;
                Err(Error::protocol(
                    "the server repeated a paging cursor (the walk would never end); stopping",
                    Some(200),
                ))
            }
            Some(_) => Ok(()),
            None => {
                self.finished = true;
                Err(Error::protocol("the server announced a next page without an `after` cursor", Some(200)))
            }
        }
    }

    /// The next item, or `None` after the last one; `after()` then points
    /// just past it.
    pub async fn next_item(&mut self) -> Result<Option<T>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                self.position.consumed += 1;
                return Ok(Some(item));
            }
            match self.next_page().await? {
                Some(page) => {
                    self.buffer.extend(page.items);
                    self.position.consumed = 0;
                }
                None => return Ok(None),
            }
        }
    }

    /// Every page, as a `Stream`; ends after the first error.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T>>> + Send {
        futures_util::stream::unfold((self, false), |(mut pager, failed)| async move {
            if failed {
                return None;
            }
            match pager.next_page().await {
                Ok(Some(page)) => Some((Ok(page), (pager, false))),
                Ok(None) => None,
                Err(e) => Some((Err(e), (pager, true))),
            }
        })
    }

    /// Every item, as a `Stream`; ends after the first error. To keep a
    /// resume point, loop on [`next_item`](Self::next_item) instead.
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> + Send {
        futures_util::stream::unfold((self, false), |(mut pager, failed)| async move {
            if failed {
                return None;
            }
            match pager.next_item().await {
                Ok(Some(item)) => Some((Ok(item), (pager, false))),
                Ok(None) => None,
                Err(e) => Some((Err(e), (pager, true))),
            }
        })
    }
}

/// Starts fetching the page after `after` on the current runtime. Without
/// one (a caller polling by hand) the page is simply fetched when asked for.
fn spawn_fetch<T: PageItem>(walk: &Arc<Walk>, after: String) -> Option<Prefetch<T>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    // With the caller's subscriber: the prefetch's HTTP attempt reports where
    // the caller's do (a scoped one included).
    Some(AbortOnDropHandle::new(handle.spawn(fetch(walk.clone(), Some(after), None).with_current_subscriber())))
}

/// Fetches one page, of `limit` items when given (else the walk's). Boxed:
/// it spawns its own kind.
fn fetch<T: PageItem>(walk: Arc<Walk>, after: Option<String>, limit: Option<u32>) -> BoxFuture<'static, Fetched<T>> {
    async move {
        let failed = |e| Fetched { page: Err(e), next: None };
        let limit = limit.map(|n| n.to_string());
        let mut query: Vec<(&str, &str)> = walk
            .params
            .iter()
            .filter(|(k, _)| limit.is_none() || *k != "limit")
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        if let Some(n) = &limit {
            query.push(("limit", n));
        }
        if let Some(a) = &after {
            query.push(("after", a));
        }
        if let Some(p) = &walk.pacer {
            p.wait(&walk.client).await;
        }
        let body = match walk.client.get(&walk.edge, &query).await {
            Ok(body) => body,
            Err(e) => return failed(e),
        };
        let raw: RawPage = match parse_json(&body) {
            Ok(raw) => raw,
            Err(e) => return failed(e),
        };
        let (cursor, has_next) = raw.cursor();
        let next = match &cursor {
            // A cursor equal to this page's own is the runaway `next_page`
            // refuses; the swap comes last so that only a fetch it starts
            // clears the flag.
            Some(c) if has_next && after.as_ref() != Some(c) && walk.waiting.swap(false, Ordering::AcqRel) => {
                spawn_fetch(&walk, c.clone())
            }
            _ => None,
        };
        if next.is_some() {
            // A task spawned from a runtime thread waits in that thread's
            // LIFO slot until this one yields: let it send its request first.
            tokio::task::yield_now().await;
        }
        Fetched { page: raw.into_page(cursor, has_next), next }
    }
    .boxed()
}

/// A page, its items left as text for `PageItem::from_raw`.
#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    paging: Option<RawPaging>,
}

#[derive(Deserialize)]
struct RawPaging {
    #[serde(default)]
    cursors: Option<RawCursors>,
    /// Only its presence matters: the URL carries the token and is never followed.
    #[serde(default)]
    next: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RawCursors {
    #[serde(default)]
    after: Option<String>,
}

impl RawPage<'_> {
    /// The `after` cursor, and whether Graph announced a next page.
    fn cursor(&self) -> (Option<String>, bool) {
        match &self.paging {
            Some(p) => (p.cursors.as_ref().and_then(|c| c.after.clone()), p.next.is_some()),
            None => (None, false),
        }
    }

    /// The page, its items built from their text; `cursor()` said the rest.
    fn into_page<T: PageItem>(self, after: Option<String>, has_next: bool) -> Result<Page<T>> {
        let items = self.data.into_iter().map(T::from_raw).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, after, has_next })
    }
}

/// A whole page at once (the fetch above splits it to start the next early).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn parse_page<T: PageItem>(body: &[u8]) -> Result<Page<T>> {
    let raw: RawPage = parse_json(body)?;
    let (after, has_next) = raw.cursor();
    raw.into_page(after, has_next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_page_has_cursor_but_no_next() {
        let page =
            parse_page::<Conversation>(br#"{"data":[{"id":"t_1"}],"paging":{"cursors":{"before":"b","after":"a"}}}"#);
        let page = page.ok();
        assert_eq!(page.as_ref().map(|p| (p.after.as_deref(), p.has_next)), Some((Some("a"), false)));
    }

    #[test]
    fn query_is_validated() {
        assert!(ConversationsQuery::new().page_size(0).to_params().is_err());
        assert!(ConversationsQuery::new().fields(["id", "x y"]).to_params().is_err());
        assert!(ConversationsQuery::new().user_id("1/2").to_params().is_err());
        let ok = ConversationsQuery::new().folder(Folder::PageDone).fields(["id", "snippet"]).page_size(50).to_params();
        assert_eq!(
            ok.ok(),
            Some(vec![
                ("folder", "page_done".to_owned()),
                ("fields", "id,snippet".to_owned()),
                ("limit", "50".to_owned())
            ])
        );
    }
}
