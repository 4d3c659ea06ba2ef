//! The native half of the `messenger-handover` Node package.
//!
//! Thin by design: every Graph rule (URLs, error codes, retries, paging)
//! lives in the `messenger-handover` core. This crate only converts types and
//! errors; `index.js` adds the JavaScript idioms (error classes, abort
//! signals, async iteration) on top.

#![deny(clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cancel;
pub mod client;
pub mod convert;
pub mod emulator;
pub mod errors;
pub mod export;
pub mod observe;
pub mod pager;
pub mod scripted;
pub mod usage;
pub mod webhooks;

use messenger_handover::validate;
use napi_derive::napi;

/// A bad `TOKIO_WORKER_THREADS` makes tokio panic when napi builds its runtime,
/// which aborts the process. napi is then given a runtime built here, with
/// tokio's default count, and `new Client()` refuses the variable (as Python's
/// `Client()` does) with a clear error.
#[napi_derive::module_init]
fn init() {
    if validate::worker_threads_from_env().is_ok() {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}

/// The version of the native addon (the crate version).
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
