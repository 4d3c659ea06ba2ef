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

use napi_derive::napi;

/// The version of the native addon (the crate version).
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
