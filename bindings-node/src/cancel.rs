//! Cancellation: a token the JS wrapper trips on `AbortSignal` 'abort'; the
//! call's future is raced against it and dropped at once when it trips.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi_derive::napi;
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    cancelled: AtomicBool,
    notify: Notify,
}

/// Trips once; every call it was handed to is dropped.
#[napi]
#[derive(Default)]
pub struct CancelToken {
    state: Arc<State>,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        CancelToken::default()
    }

    #[napi]
    pub fn cancel(&self) {
        self.state.cancelled.store(true, Ordering::SeqCst);
        self.state.notify.notify_waiters();
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.state.cancelled.load(Ordering::SeqCst)
    }
}

/// What a spawned call keeps of its token.
#[derive(Clone, Default)]
pub struct Canceller(Option<Arc<State>>);

impl Canceller {
    pub fn from_token(token: Option<&CancelToken>) -> Self {
        Canceller(token.map(|t| t.state.clone()))
    }

    async fn tripped(&self) {
        let Some(state) = &self.0 else { return std::future::pending().await };
        loop {
            // Registered before the flag is read, so no wake-up is lost.
            let notified = state.notify.notified();
            if state.cancelled.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Runs `fut` unless the token trips first; then `fut` is dropped.
    pub async fn run<T>(self, fut: impl Future<Output = napi::Result<T>>) -> napi::Result<T> {
        tokio::select! {
            biased;
            _ = self.tripped() => Err(crate::errors::aborted()),
            r = fut => r,
        }
    }
}
