//! Helpers the integration tests share: fault injection from JSON and the
//! emulator's request log as JSON values.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use messenger_handover_emulator::{Emulator, FaultSpec};
use serde_json::Value;

/// Queues a fault written as the admin API's JSON.
pub fn fault(emu: &Emulator, spec: Value) {
    emu.inject_fault(serde_json::from_value::<FaultSpec>(spec).expect("fault spec parses"));
}

/// Every request the emulator logged, as JSON objects.
pub fn log(emu: &Emulator) -> Vec<Value> {
    match serde_json::to_value(emu.request_log()).unwrap() {
        Value::Array(v) => v,
        other => panic!("request log is not a list: {other}"),
    }
}

/// Requests the emulator saw with this method whose path ends with `edge`.
pub fn seen(emu: &Emulator, method: &str, edge: &str) -> usize {
    log(emu).iter().filter(|r| r["method"] == method && r["path"].as_str().unwrap_or("").ends_with(edge)).count()
}
