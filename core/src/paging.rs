//! Cursor paging over the conversations edge, with one page prefetched.

use std::collections::VecDeque;

use futures_core::Stream;
use serde::Deserialize;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::client::{parse_json, Client};
use crate::error::{Error, Result};
use crate::model::{Conversation, Folder, Page, Platform};
use crate::validate;

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
    /// Resume after this cursor (a pager's `after()` from an earlier run).
    pub after: Option<String>,
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
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    /// Checks every argument and renders the fixed part of the query.
    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
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
        if !self.fields.is_empty() {
            validate::fields("fields", &self.fields)?;
            params.push(("fields", self.fields.join(",")));
        }
        if let Some(n) = self.page_size {
            validate::page_size(n)?;
            params.push(("limit", n.to_string()));
        }
        if let Some(a) = &self.after {
            validate::cursor(a)?;
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

/// Walks the conversations edge page by page or item by item.
///
/// While the caller handles one page, the next is already being fetched.
/// Dropping the pager cancels that prefetch. [`after`](Self::after) is the
/// cursor of the last page handed out, so an interrupted export resumes
/// with `ConversationsQuery::after`.
pub struct ConversationPager {
    client: Client,
    params: std::sync::Arc<Vec<(&'static str, String)>>,
    after: Option<String>,
    finished: bool,
    prefetch: Option<JoinHandle<Result<Page<Conversation>>>>,
}

impl std::fmt::Debug for ConversationPager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationPager")
            .field("after", &self.after)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Drop for ConversationPager {
    fn drop(&mut self) {
        if let Some(task) = self.prefetch.take() {
            task.abort();
        }
    }
}

impl ConversationPager {
    pub(crate) fn new(client: Client, query: ConversationsQuery) -> Result<Self> {
        let params = query.to_params()?;
        Ok(ConversationPager {
            client,
            params: std::sync::Arc::new(params),
            after: query.after,
            finished: false,
            prefetch: None,
        })
    }

    /// The cursor after the last page handed out (or the one it started from).
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// True once the last page has been handed out.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next page, or `None` after the last one. After an error the
    /// pager stays where it was: calling again retries the same page.
    pub async fn next_page(&mut self) -> Result<Option<Page<Conversation>>> {
        if self.finished {
            return Ok(None);
        }
        let page = match self.prefetch.take() {
            Some(task) => match task.await {
                Ok(result) => result,
                Err(e) => Err(Error::Transport {
                    failure: crate::error::TransportFailure::Other,
                    message: format!("page prefetch did not complete: {e}"),
                }),
            },
            None => fetch_page(&self.client, &self.params, self.after.as_deref()).await,
        }?;
        if page.after.is_some() {
            self.after.clone_from(&page.after);
        }
        match (&page.after, page.has_next) {
            (Some(next), true) => self.start_prefetch(next.clone()),
            _ => self.finished = true,
        }
        Ok(Some(page))
    }

    fn start_prefetch(&mut self, after: String) {
        // Without a runtime (a caller polling by hand) the next page is simply
        // fetched when asked for.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let client = self.client.clone();
            let params = self.params.clone();
            self.prefetch = Some(handle.spawn(async move { fetch_page(&client, &params, Some(&after)).await }));
        }
    }

    /// Every page, as a `Stream`.
    pub fn pages(self) -> impl Stream<Item = Result<Page<Conversation>>> + Send {
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

    /// Every conversation, as a `Stream`; ends after the first error.
    pub fn into_stream(self) -> impl Stream<Item = Result<Conversation>> + Send {
        futures_util::stream::unfold((self, VecDeque::new(), false), |(mut pager, mut buffer, failed)| async move {
            loop {
                if let Some(item) = buffer.pop_front() {
                    return Some((Ok(item), (pager, buffer, failed)));
                }
                if failed {
                    return None;
                }
                match pager.next_page().await {
                    Ok(Some(page)) => buffer.extend(page.items),
                    Ok(None) => return None,
                    Err(e) => return Some((Err(e), (pager, buffer, true))),
                }
            }
        })
    }
}

async fn fetch_page(
    client: &Client,
    params: &[(&'static str, String)],
    after: Option<&str>,
) -> Result<Page<Conversation>> {
    let mut query: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(a) = after {
        query.push(("after", a));
    }
    let body = client.get("conversations", &query).await?;
    parse_page(&body)
}

#[derive(Deserialize)]
struct RawPage {
    data: Vec<Value>,
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

pub(crate) fn parse_page(body: &[u8]) -> Result<Page<Conversation>> {
    let raw: RawPage = parse_json(body)?;
    let items = raw.data.into_iter().map(Conversation::from_json).collect::<Result<Vec<_>>>()?;
    let (after, has_next) = match raw.paging {
        Some(p) => (p.cursors.and_then(|c| c.after), p.next.is_some()),
        None => (None, false),
    };
    Ok(Page { items, after, has_next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_page_has_cursor_but_no_next() {
        let page = parse_page(br#"{"data":[{"id":"t_1"}],"paging":{"cursors":{"before":"b","after":"a"}}}"#);
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
