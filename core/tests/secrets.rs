//! The access token and the app secret never appear in anything the crate
//! produces: error messages (Display and Debug), the Debug of the client, its
//! builder, pagers and usage, the log lines it (and reqwest/hyper beneath it)
//! emits at trace level, or the URLs and queries the server receives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::fault;
use messenger_handover::{Client, ConversationsQuery, Error, ErrorKind};
use messenger_handover_emulator::{Emulator, EmulatorConfig, SECONDARY_APP_ID};
use serde_json::{json, Value};

const PSID: &str = "1122334455";

/// Everything written by the global tracing subscriber (and `log` records
/// through tracing-log), at TRACE level, for every crate.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let for_writer = buf.clone();
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Capture(for_writer.clone()))
            .try_init();
        assert!(installed.is_ok(), "the capture subscriber is the only global one: {installed:?}");
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn graph_error(code: i64, message: String) -> Value {
    json!({"action": {"type": "graph_error", "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Asecrets"}}})
}

/// Every string an error can produce.
fn describe(err: &Error) -> Vec<String> {
    let mut out = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}"), err.kind().to_string()];
    if let Some(g) = err.graph() {
        out.push(format!("{g}"));
        out.push(format!("{g:?}"));
        out.push(format!("{:?}", g.usage));
        if let Some(u) = &g.usage {
            out.push(serde_json::to_string(u).unwrap());
        }
    }
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push(s.to_string());
        out.push(format!("{s:?}"));
        source = s.source();
    }
    out
}

/// Fails if `text` holds `secret` or any 16-character piece of it (a
/// truncated or wrapped leak is still a leak).
fn assert_clean(what: &str, text: &str, secret_name: &str, secret: &str) {
    assert!(secret.len() >= 16);
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(16) {
        let piece: String = window.iter().collect();
        assert!(!text.contains(&piece), "{secret_name} (piece {piece:?}) leaked in {what}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_error_kind_log_line_or_url_carries_a_secret() {
    let logs = captured_logs();
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let token = emu.apps().primary.token.clone();
    let secret = emu.apps().primary.secret.clone();
    let builder = Client::builder(&token)
        .base_url(emu.url())
        .page_id(emu.page_id())
        .app_secret(&secret)
        .timeout(Duration::from_millis(300))
        .retry_base_delay(Duration::from_millis(2))
        .max_retry_wait(Duration::from_secs(2));
    let mut texts: Vec<(String, String)> = vec![("builder debug".into(), format!("{builder:?} {builder:#?}"))];
    let bot = builder.clone().build().unwrap();
    texts.push(("client debug".into(), format!("{bot:?} {bot:#?} {}", bot.base_url())));

    let mut kinds_seen = std::collections::BTreeSet::new();
    let mut record = |what: &str, err: Error, texts: &mut Vec<(String, String)>| {
        kinds_seen.insert(err.kind().as_str());
        for t in describe(&err) {
            texts.push((what.to_owned(), t));
        }
    };

    // Successful calls first, so that debug lines of good calls are captured too.
    bot.thread_owner(PSID).await.unwrap();
    bot.secondary_receivers().await.unwrap();
    texts.push(("usage".into(), format!("{:?}", bot.last_usage())));

    // invalid_parameter: real (a field that does not exist) and injected, echoing the token.
    let err = bot.conversations(ConversationsQuery::new().fields(["no_such_field"])).unwrap().next_page().await;
    record("invalid_parameter (real)", err.unwrap_err(), &mut texts);
    fault(&emu, graph_error(100, format!("(#100) Invalid parameter access_token={token}")));
    record("invalid_parameter (echo)", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);

    // auth: injected 190 echoing the token, and real (a token the emulator does not know
    // that starts with the real one).
    fault(&emu, graph_error(190, format!("Error validating access token: The session is invalid: {token}")));
    record("auth (echo)", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    let longer = Client::builder(format!("{token}X")).base_url(emu.url()).build().unwrap();
    record("auth (real)", longer.thread_owner(PSID).await.unwrap_err(), &mut texts);
    texts.push(("longer-token client debug".into(), format!("{longer:?}")));

    // permission: injected and real (the secondary app may not read the thread owner).
    fault(&emu, graph_error(200, format!("(#200) Permissions error for {token}")));
    record("permission (echo)", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    let helpdesk = Client::builder(&emu.apps().secondary.token)
        .base_url(emu.url())
        .app_secret(&emu.apps().secondary.secret)
        .build()
        .unwrap();
    record("permission (real)", helpdesk.thread_owner(PSID).await.unwrap_err(), &mut texts);

    // thread_control: real (pass a thread we no longer own).
    bot.pass_thread_control(PSID, SECONDARY_APP_ID, Some("to the helpdesk")).await.unwrap();
    record("thread_control", bot.pass_thread_control(PSID, SECONDARY_APP_ID, None).await.unwrap_err(), &mut texts);
    bot.take_thread_control(PSID, None).await.unwrap();

    // blocked, server.
    fault(&emu, graph_error(368, format!("(#368) The action attempted has been deemed abusive: {token}")));
    record("blocked", bot.take_thread_control(PSID, None).await.unwrap_err(), &mut texts);
    fault(
        &emu,
        json!({"count": 4, "action": {"type": "status", "status": 500,
            "body": json!({"error": {"message": format!("An unknown error occurred {token}"), "code": 1, "is_transient": true}}).to_string()}}),
    );
    record("server", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);

    // transport: reset, reset mid-body, timeout, connection refused.
    fault(&emu, json!({"count": 4, "action": {"type": "reset"}}));
    record("transport reset", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    fault(&emu, json!({"match": {"method": "POST"}, "action": {"type": "reset_mid_body"}}));
    record("transport mid-body", bot.take_thread_control(PSID, None).await.unwrap_err(), &mut texts);
    fault(&emu, json!({"match": {"method": "POST"}, "action": {"type": "delay", "ms": 800}}));
    let err = bot.take_thread_control(PSID, None).await.unwrap_err();
    assert!(err.is_timeout());
    record("transport timeout", err, &mut texts);
    let (_held, closed_url) = common::refusing_socket();
    let refused = builder.clone().base_url(closed_url).max_retries(1).build().unwrap();
    record("transport refused", refused.thread_owner(PSID).await.unwrap_err(), &mut texts);

    // protocol: an HTML page and a truncated body that both echo the token, an oversized body.
    fault(
        &emu,
        json!({"count": 4, "action": {"type": "malformed", "status": 502, "content_type": "text/html",
            "body": format!("<html><body>Bad gateway for Authorization: Bearer {token}</body></html>")}}),
    );
    record("protocol html", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    fault(&emu, json!({"action": {"type": "malformed", "status": 200, "body": format!("{{\"data\": [\"{token}")}}));
    record("protocol truncated", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    let small = builder.clone().max_response_bytes(64).build().unwrap();
    fault(
        &emu,
        json!({"action": {"type": "malformed", "status": 200, "body": format!("{{\"data\": [], \"x\": \"{token}\"}}")}}),
    );
    record("protocol too large", small.thread_owner(PSID).await.unwrap_err(), &mut texts);

    // invalid_input, with the secrets themselves as the bad values.
    record("invalid psid", bot.thread_owner(&format!("{token}/x")).await.unwrap_err(), &mut texts);
    record("invalid psid nl", bot.thread_owner(&format!("{token}\n")).await.unwrap_err(), &mut texts);
    record("invalid app id", bot.pass_thread_control(PSID, &token, None).await.unwrap_err(), &mut texts);
    record("invalid metadata", bot.take_thread_control(PSID, Some(&token.repeat(10))).await.unwrap_err(), &mut texts);
    record(
        "invalid fields",
        bot.conversations(ConversationsQuery::new().fields([format!("{token}&x")])).unwrap_err(),
        &mut texts,
    );
    record(
        "invalid after",
        bot.conversations(ConversationsQuery::new().after(format!("{token} x"))).unwrap_err(),
        &mut texts,
    );
    for b in [
        Client::builder(format!("{token}\n")),
        Client::builder(&token).page_id(format!("{secret}/{token}")),
        Client::builder(&token).api_version(token.clone()),
        Client::builder(&token).base_url(format!("http://{secret}.example.com/{token}")),
        Client::builder(&token).base_url(format!("https://graph.facebook.com/?access_token={token}")),
        Client::builder(&token).base_url(format!("https://user:{token}@graph.facebook.com/")),
        Client::builder(&token).base_url(format!("{token}://graph.facebook.com")),
        Client::builder(&token).base_url(format!("not a url {token}")),
    ] {
        record("invalid builder", b.build().unwrap_err(), &mut texts);
    }

    // rate_limit last: from the server (long regain), then refused client-side.
    fault(
        &emu,
        json!({"action": {"type": "graph_error", "status": 400,
            "headers": {"X-Business-Use-Case-Usage": json!({emu.page_id(): [{"type": "messenger", "call_count": 100, "total_time": 1, "total_cputime": 1, "estimated_time_to_regain_access": 10}]}).to_string()},
            "error": {"message": format!("(#80006) There have been too many messenger api calls {token}"), "code": 80006}}}),
    );
    record("rate_limit (server)", bot.thread_owner(PSID).await.unwrap_err(), &mut texts);
    record("rate_limit (client-side)", bot.take_thread_control(PSID, None).await.unwrap_err(), &mut texts);
    texts.push(("usage after throttle".into(), format!("{:?}", bot.last_usage())));

    let mut expected: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(kinds_seen.into_iter().collect::<Vec<_>>(), expected, "every error kind was provoked");

    // A pager, before and after reading, and its pages.
    let fresh = builder.clone().build().unwrap();
    let mut pager = fresh.conversations(ConversationsQuery::new().page_size(3)).unwrap();
    texts.push(("pager".into(), format!("{pager:?}")));
    let page = pager.next_page().await.unwrap().unwrap();
    texts.push(("page".into(), format!("{page:?}")));
    texts.push(("pager after a page".into(), format!("{pager:?} {:?}", pager.after())));
    drop(pager);

    // What the server received: every path and query, with the token sent in the header.
    let log = emu.request_log();
    assert!(log.len() > 20, "{}", log.len());
    for entry in &log {
        let from_us = entry.app.is_some() || entry.auth.is_some();
        if from_us {
            assert_eq!(entry.auth, Some("header"), "{entry:?}");
        }
        assert!(!entry.token_in_query, "{entry:?}");
        let url: String = std::iter::once(entry.path.clone())
            .chain(entry.query.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join("&");
        texts.push(("request url".into(), url));
        texts.push(("request log entry".into(), serde_json::to_string(entry).unwrap()));
    }
    // appsecret_proof travels; the secret does not.
    assert!(log.iter().any(|e| e.query.contains_key("appsecret_proof")));

    // Every log line, at trace level, from this crate, reqwest, hyper and the emulator.
    let lines = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(lines.contains("http.client.request"), "the client's per-attempt span and lines were captured");
    assert!(lines.contains("retrying"), "retry lines were captured");
    assert!(lines.contains("hyper_util") || lines.contains("reqwest"), "the HTTP stack's lines were captured");
    texts.push(("trace log".into(), lines));

    for (what, text) in &texts {
        assert_clean(what, text, "access token", &token);
        assert_clean(what, text, "app secret", &secret);
    }
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused_before_any_connection() {
    // A listener on every interface: if the client ever connected to this
    // machine's non-loopback address, it would be accepted here.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let own_ip = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.254.254.254:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());

    let token = "EAAGplain-http-token-0123456789abcdef";
    let mut refused = vec![
        "http://graph.facebook.com".to_owned(),
        "HTTP://GRAPH.FACEBOOK.COM/".to_owned(),
        "http://10.0.0.1".to_owned(),
        "http://192.168.1.10:8080".to_owned(),
        "http://169.254.169.254/latest".to_owned(),
        "http://0.0.0.0:80".to_owned(),
        "http://[::ffff:10.0.0.1]".to_owned(),
        "http://[fe80::1]".to_owned(),
        "http://localhost.example.com".to_owned(),
        "http://127.0.0.1.nip.io".to_owned(),
        "http://127.0.0.1@example.com".to_owned(),
        format!("http://0.0.0.0:{port}"),
        "ws://127.0.0.1".to_owned(),
        "file:///etc/passwd".to_owned(),
    ];
    if let Some(ip) = own_ip {
        refused.push(format!("http://{ip}:{port}"));
    }
    for url in &refused {
        let err = Client::builder(token).base_url(url.as_str()).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}: {err}");
        assert!(matches!(err, Error::InvalidInput { argument: "base_url", .. }), "{url}: {err:?}");
        assert!(!err.to_string().contains(token), "{err}");
    }
    // No connection was attempted.
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "something connected: {accepted:?}");

    // https anywhere and http to loopback are accepted.
    for url in [
        "https://graph.facebook.com",
        "https://10.0.0.1:8443",
        "http://127.0.0.1:9",
        "http://127.8.9.10:9",
        "http://[::1]:9",
        "http://localhost:9",
        "http://LOCALHOST:9",
    ] {
        assert!(Client::builder(token).base_url(url).build().is_ok(), "{url}");
    }
}

#[tokio::test]
async fn the_token_travels_in_the_header_only() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let bot = Client::builder(&emu.apps().primary.token).base_url(emu.url()).build().unwrap();
    bot.thread_owner(PSID).await.unwrap();
    bot.take_thread_control(PSID, Some("meta")).await.unwrap();
    let pages: Vec<_> = {
        use futures_util::TryStreamExt;
        bot.conversations(ConversationsQuery::new().page_size(25)).unwrap().pages().try_collect().await.unwrap()
    };
    assert!(pages.len() > 2, "several pages followed by cursor");
    let token = &emu.apps().primary.token;
    for entry in emu.request_log() {
        assert_eq!(entry.auth, Some("header"), "{entry:?}");
        assert!(!entry.token_in_query && !entry.query.contains_key("access_token"), "{entry:?}");
        let body = entry.body.map(|b| b.to_string()).unwrap_or_default();
        assert!(!body.contains(token.as_str()), "token in a POST body: {body}");
    }
}
