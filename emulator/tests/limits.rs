//! The emulator's own bounds: a ring request log, stalled requests timed out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn the_request_log_is_a_bounded_ring() {
    let emu = Emulator::start(EmulatorConfig { log_capacity: 5, ..Default::default() }).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = &emu.apps().get(AppRole::Primary).token;
    for i in 0..8 {
        let url = format!("{}/v26.0/me/thread_owner?recipient={}", emu.url(), i + 1);
        assert_eq!(http.get(url).bearer_auth(token).send().await.unwrap().status().as_u16(), 200);
    }
    let log = emu.request_log();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5, 6, 7, 8]);
    assert_eq!(log[0].query["recipient"], "4");
    let state = emu.state();
    assert_eq!((state["requests_logged"].as_u64(), state["requests_dropped"].as_u64()), (Some(5), Some(3)));
    emu.set_log_capacity(2);
    assert_eq!(emu.request_log().iter().map(|e| e.seq).collect::<Vec<_>>(), vec![7, 8]);
    // Through the admin API; 0 keeps nothing.
    let url = format!("{}/_emulator/requests/capacity", emu.url());
    assert_eq!(http.put(url).body(r#"{"capacity": 0}"#).send().await.unwrap().status().as_u16(), 200);
    assert!(emu.request_log().is_empty());
    // reset restores the configured capacity.
    emu.reset();
    assert_eq!(emu.state()["log_capacity"], 5);
}

/// Reads until the server closes the connection; what it sent, or `None` when
/// it was still open after `limit` (a generous bound, never a speed assertion).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn a_request_stalled_in_its_headers_is_dropped() {
    let emu = Emulator::start(EmulatorConfig { header_read_timeout_ms: 200, ..Default::default() }).await.unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", emu.port())).await.unwrap();
    // The head never ends (no blank line).
    stream.write_all(b"GET /v26.0/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answer.is_some(), "the connection was still open after 20 s");
    // The emulator still serves everyone else.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = http
        .get(format!("{}/v26.0/me", emu.url()))
        .bearer_auth(&emu.apps().get(AppRole::Primary).token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_request_stalled_in_its_body_gets_408() {
    let emu = Emulator::start(EmulatorConfig { header_read_timeout_ms: 200, ..Default::default() }).await.unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", emu.port())).await.unwrap();
    let head = "POST /v26.0/me/take_thread_control HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"recipient\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await.expect("closed within 20 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(emu.state()["threads"].as_object().unwrap().is_empty());
}
