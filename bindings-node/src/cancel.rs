//! Cancellation: the JS wrapper trips a `CancelToken` on `AbortSignal`
//! 'abort'; each call's future is raced against it and dropped at once.
//! The primitive is tokio-util's `CancellationToken`; this file only gives
//! it a JavaScript class.

use std::future::Future;

use napi_derive::napi;
use tokio_util::sync::CancellationToken;

/// Trips once; every call it was handed to is dropped.
#[napi]
#[derive(Default)]
pub struct CancelToken {
    token: CancellationToken,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        CancelToken::default()
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// What a spawned call keeps of its token.
#[derive(Clone, Default)]
pub struct Canceller(Option<CancellationToken>);

impl Canceller {
    pub fn from_token(token: Option<&CancelToken>) -> Self {
        Canceller(token.map(|t| t.token.clone()))
    }

    /// Runs `fut` unless the token trips first; then `fut` is dropped.
    pub async fn run<T>(self, fut: impl Future<Output = crate::errors::Result<T>>) -> crate::errors::Result<T> {
        match self.0 {
            Some(token) => tokio::select! {
                biased;
                _ = token.cancelled() => Err(crate::errors::aborted()),
                r = fut => r,
            },
            None => fut.await,
        }
    }
}
