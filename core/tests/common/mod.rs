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

/// A socket bound to a free port but not listening: connections to it are
/// refused, and no other process can take the port while it is held (a
/// listener bound, then closed, leaves the port free for anyone). Returns
/// the socket (keep it alive; `listen()` it to start serving) and its URL.
pub fn refusing_socket() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://127.0.0.1:{}", socket.local_addr().unwrap().port());
    (socket, url)
}
