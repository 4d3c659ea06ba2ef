//! `NativePager` (conversations) and `NativeMessagePager`: a core pager behind
//! a lock, read one page at a time from JavaScript (`nextPage()`); `close()`
//! drops it and its prefetch. One macro makes both. A page crosses as one
//! JSON text (`convert::PageJson`) that index.js parses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use messenger_handover::{ConversationPager, MessagePager, Page, PageItem, Pager, Position};
use napi::bindgen_prelude::{within_runtime_if_available, Latin1String, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use crate::cancel::{CancelToken, Canceller};
use crate::convert::{page_text, ToJs};
use crate::errors::{from_core, state, throw, Failure};

/// After the pager in `slot` handed out `page` (awaited or ready): records
/// where it stands, drops it once finished or closed (and its prefetch with
/// it), and makes the page's JSON text.
fn hand_over<T: PageItem + ToJs>(
    slot: &mut Option<Pager<T>>,
    page: messenger_handover::Result<Option<Page<T>>>,
    position: &Mutex<Position>,
    closed: &AtomicBool,
) -> Result<Option<Latin1String>, Failure> {
    let page = page.map_err(from_core)?;
    let Some(p) = slot.as_mut() else { return Ok(None) };
    let resume_after = p.after();
    p.position().clone_into(&mut position.lock().unwrap_or_else(PoisonError::into_inner));
    if p.is_finished() || closed.load(Ordering::SeqCst) {
        slot.take();
    }
    page.map(|page| page_text(page, resume_after.as_deref()))
        .transpose()
        .map_err(|e| state(format!("cannot hand the page over: {e}")))
}

macro_rules! native_pager {
    ($doc:tt, $name:ident, $core:ty) => {
        #[doc = $doc]
        #[napi]
        pub struct $name {
            pager: Arc<tokio::sync::Mutex<Option<$core>>>,
            /// Where the core pager stood after the last page it handed out.
            position: Arc<Mutex<Position>>,
            closed: Arc<AtomicBool>,
        }

        impl $name {
            pub fn new(pager: $core) -> Self {
                let position = pager.position().clone();
                $name {
                    pager: Arc::new(tokio::sync::Mutex::new(Some(pager))),
                    position: Arc::new(Mutex::new(position)),
                    closed: Arc::new(AtomicBool::new(false)),
                }
            }
        }

        #[napi]
        impl $name {
            /// The next page as JSON text (a `ConversationPage` or `MessagePage`,
            /// which index.js parses), or `null` after the last one. An aborted
            /// read leaves the pager where it was.
            #[napi]
            pub fn next_page<'env>(
                &self,
                env: &'env Env,
                cancel: Option<&CancelToken>,
            ) -> napi::Result<PromiseRaw<'env, Option<Latin1String>>> {
                let (pager, position, closed) = (self.pager.clone(), self.position.clone(), self.closed.clone());
                crate::errors::spawn(
                    env,
                    Canceller::from_token(cancel).run(async move {
                        let mut guard = pager.lock().await;
                        if closed.load(Ordering::SeqCst) {
                            guard.take();
                        }
                        let Some(p) = guard.as_mut() else { return Ok(None) };
                        let page = p.next_page().await;
                        hand_over(&mut guard, page, &position, &closed)
                    }),
                )
            }

            /// The next page's JSON text at once when it is already fetched (the
            /// prefetch landed), else `null` and the caller awaits `nextPage`: a
            /// walk that keeps up with the network crosses to the runtime and back
            /// only when it has to wait (issue 14).
            #[napi]
            pub fn next_page_ready(&self, env: &Env) -> napi::Result<Option<Latin1String>> {
                // Locked: a `nextPage` is in flight (or the pager is closed and gone).
                let Ok(mut guard) = self.pager.try_lock() else { return Ok(None) };
                if self.closed.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let Some(p) = guard.as_mut() else { return Ok(None) };
                // Inside the runtime, so that the following prefetch starts, and
                // under this environment's bridge, as `nextPage` is.
                let ready = within_runtime_if_available(|| crate::observe::in_scope(|| p.next_page_ready()));
                let Some(page) = ready else { return Ok(None) };
                hand_over(&mut guard, page, &self.position, &self.closed).map_err(|e| throw(env, e))
            }

            /// The resume point after every item of the last page handed out (or the
            /// one it started from).
            #[napi(getter)]
            pub fn after(&self) -> Option<String> {
                self.resume_after(None)
            }

            /// The resume point after `consumed` items of the last page handed out
            /// (all of it when absent): the core makes it exact to the item.
            #[napi]
            pub fn resume_after(&self, consumed: Option<u32>) -> Option<String> {
                let n = consumed.map_or(usize::MAX, |n| n as usize);
                self.position.lock().unwrap_or_else(PoisonError::into_inner).resume_after(n)
            }

            #[napi(getter)]
            pub fn closed(&self) -> bool {
                self.closed.load(Ordering::SeqCst)
            }

            /// Stops paging: the prefetched page (if any) is cancelled.
            #[napi]
            pub fn close(&self) -> napi::Result<()> {
                self.closed.store(true, Ordering::SeqCst);
                // A read in flight drops the pager itself when it ends.
                if let Ok(mut guard) = self.pager.try_lock() {
                    guard.take();
                }
                Ok(())
            }
        }
    };
}

native_pager!("Pages of conversations, with the next one prefetched.", NativePager, ConversationPager);
native_pager!("Pages of a conversation's messages, with the next one prefetched.", NativeMessagePager, MessagePager);
