//! Helpers the integration tests share: fault injection from JSON and the
//! emulator's request log as JSON values, and clients aimed at the emulator.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use messenger_handover::{Client, ClientBuilder};
use messenger_handover_emulator::{Emulator, EmulatorConfig, FaultSpec, Mode};
use serde_json::Value;

/// An emulator with the default settings.
pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

/// An emulator with this many conversations, the rest as default.
pub async fn emulator_with(conversations: usize) -> Emulator {
    Emulator::start(EmulatorConfig { conversations, ..EmulatorConfig::default() }).await.expect("emulator starts")
}

/// An emulator in this mode, the rest as default.
pub async fn emulator_in(mode: Mode) -> Emulator {
    Emulator::start(EmulatorConfig { mode, ..EmulatorConfig::default() }).await.expect("emulator starts")
}

/// A builder aimed at the emulator with this token; retries wait 5 ms so
/// that fault tests stay quick.
pub fn builder_for(emu: &Emulator, token: &str) -> ClientBuilder {
    Client::builder(token).base_url(emu.url()).page_id(emu.page_id()).retry_base_delay(Duration::from_millis(5))
}

/// A builder for the emulator's primary app.
pub fn builder(emu: &Emulator) -> ClientBuilder {
    builder_for(emu, &emu.apps().primary.token)
}

/// A client of the emulator's primary app: fast backoff, the default retries.
pub fn bot(emu: &Emulator) -> Client {
    builder(emu).build().expect("client builds")
}

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
