//! Native pagers: one page at a time from a core pager (which prefetches
//! the next page while Python handles this one). Items are iterated in Python.
//! One macro makes the pager of each edge (conversations, messages).

use std::sync::{Arc, Mutex, PoisonError};

use messenger_handover::{Conversation, ConversationPager, Message, MessagePager, Page as CorePage, Position};
use pyo3::prelude::*;

use crate::errors::to_pyerr;
use crate::models::{MessagePage, Page};
use crate::runtime::{handle, PendingCall};

/// A core pager, and a page it handed out that Python never received (the
/// read was cancelled, or Ctrl-C stopped the wait, after the page came):
/// the next read hands that page out, and the resume point stays before it.
struct Reader<P, T> {
    core: P,
    returned: Option<CorePage<T>>,
}

#[derive(Default)]
struct Progress {
    /// Where the core pager stood after the last page it handed out.
    position: Position,
    finished: bool,
}

macro_rules! native_pager {
    ($(#[$doc:meta])* $name:ident, $core:ty, $item:ty, $page:ty) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "messenger_handover._native")]
        pub struct $name {
            pager: Arc<tokio::sync::Mutex<Reader<$core, $item>>>,
            progress: Arc<Mutex<Progress>>,
        }

        impl $name {
            pub fn new(pager: $core) -> Self {
                let progress = Progress { position: pager.position().clone(), finished: pager.is_finished() };
                let reader = Reader { core: pager, returned: None };
                $name { pager: Arc::new(tokio::sync::Mutex::new(reader)), progress: Arc::new(Mutex::new(progress)) }
            }

            /// Where the core pager stands after handing out a page.
            fn record(progress: &Mutex<Progress>, pager: &$core) {
                let mut p = progress.lock().unwrap_or_else(PoisonError::into_inner);
                p.position = pager.position().clone();
                p.finished = pager.is_finished();
            }
        }

        #[pymethods]
        impl $name {
            /// The resume point after `consumed` items of the last page read (all of
            /// it when None): the core makes it exact to the item.
            #[pyo3(signature = (consumed=None))]
            fn resume_after(&self, consumed: Option<usize>) -> Option<String> {
                let progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
                progress.position.resume_after(consumed.unwrap_or(usize::MAX))
            }

            /// True once the last page was read.
            #[getter]
            fn finished(&self) -> bool {
                self.progress.lock().unwrap_or_else(PoisonError::into_inner).finished
            }

            /// The next page at once when it is already fetched (the prefetch
            /// landed), else None and the caller awaits `next_page`: a walk that
            /// keeps up with the network crosses to the runtime and back only
            /// when it has to wait (issue 14).
            fn next_page_ready(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
                // Locked: a `next_page` is in flight; the caller awaits one of its own.
                let Ok(mut reader) = self.pager.try_lock() else { return Ok(None) };
                let page = match reader.returned.take() {
                    Some(page) => Ok(Some(page)),
                    None => {
                        // Inside the runtime, so that the following prefetch starts.
                        let handle = handle()?;
                        let _runtime = handle.enter();
                        let Some(page) = reader.core.next_page_ready() else { return Ok(None) };
                        page
                    }
                };
                Self::record(&self.progress, &reader.core);
                match page.map_err(|e| to_pyerr(py, e))? {
                    Some(page) => Ok(Some(Bound::new(py, <$page>::from_core(py, page)?)?.into_any().unbind())),
                    None => Ok(None),
                }
            }

            /// The next page, or None after the last one. The pager stays
            /// locked until Python has the page: a read cancelled after the
            /// page came gives it back (see `Reader`), and no other read
            /// overtakes it meanwhile.
            fn next_page(&self) -> PendingCall {
                let pager = self.pager.clone();
                let progress = self.progress.clone();
                let fut = async move {
                    let mut reader = pager.lock_owned().await;
                    let page = match reader.returned.take() {
                        Some(page) => Ok(Some(page)),
                        None => reader.core.next_page().await,
                    };
                    (reader, page)
                };
                let deliver = move |py: Python<'_>, (reader, page): (OwnedGuard<$core, $item>, Taken<$item>)| {
                    Self::record(&progress, &reader.core);
                    drop(reader);
                    Ok(match page.map_err(|e| to_pyerr(py, e))? {
                        Some(page) => Bound::new(py, <$page>::from_core(py, page)?)?.into_any().unbind(),
                        None => py.None(),
                    })
                };
                let give_back = |(mut reader, page): (OwnedGuard<$core, $item>, Taken<$item>)| {
                    if let Ok(Some(page)) = page {
                        reader.returned = Some(page);
                    }
                };
                PendingCall::with_give_back(fut, deliver, give_back)
            }
        }
    };
}

type OwnedGuard<P, T> = tokio::sync::OwnedMutexGuard<Reader<P, T>>;
/// What a read took from the core pager.
type Taken<T> = messenger_handover::Result<Option<CorePage<T>>>;

native_pager!(
    /// Pages of conversations.
    NativePager,
    ConversationPager,
    Conversation,
    Page
);
native_pager!(
    /// Pages of a conversation's messages.
    NativeMessagePager,
    MessagePager,
    Message,
    MessagePage
);
