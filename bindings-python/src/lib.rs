//! `messenger_handover._native`: the PyO3 module. The Python package
//! (`python/messenger_handover`) wraps it with the public API.

use pyo3::prelude::*;

mod client;
mod convert;
mod emulator;
mod errors;
mod export;
mod models;
mod observe;
mod pager;
mod runtime;
mod webhooks;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    observe::install();
    m.add_function(wrap_pyfunction!(observe::_set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(observe::run_cli, m)?)?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<pager::NativePager>()?;
    // Messages and the inbox export (issue 12).
    m.add("DEFAULT_EXPORT_CALLS_PER_SECOND", messenger_handover::DEFAULT_EXPORT_CALLS_PER_SECOND)?;
    m.add_class::<pager::NativeMessagePager>()?;
    m.add_class::<models::Message>()?;
    m.add_class::<models::MessagePage>()?;
    m.add_class::<export::NativeExport>()?;
    m.add_function(wrap_pyfunction!(export::messages, m)?)?;
    m.add_function(wrap_pyfunction!(export::export_conversations, m)?)?;
    m.add_class::<models::ThreadOwner>()?;
    m.add_class::<models::App>()?;
    m.add_class::<models::FeatureStatus>()?;
    m.add_class::<models::Participant>()?;
    m.add_class::<models::Conversation>()?;
    m.add_class::<models::Page>()?;
    m.add_class::<emulator::NativeEmulator>()?;
    m.add_class::<emulator::NativeScriptedServer>()?;
    m.add_class::<runtime::AbortOnCancel>()?;
    m.add_class::<runtime::PendingCall>()?;
    let before_exit = wrap_pyfunction!(runtime::before_exit, m)?;
    m.py().import("atexit")?.call_method1("register", (before_exit,))?;
    m.add_function(wrap_pyfunction!(webhooks::verify_signature, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::check_webhook_secret, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::sign, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::verify_subscription, m)?)?;
    m.add_function(wrap_pyfunction!(webhooks::parse_events, m)?)?;
    Ok(())
}
