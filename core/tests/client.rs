//! The client against the emulator, over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{builder_for, emulator_in as emulator, fault, log};
use futures_util::{StreamExt, TryStreamExt};
use messenger_handover::{Client, ConversationsQuery, ErrorKind, Folder, Platform, PAGE_INBOX_APP_ID};
use messenger_handover_emulator::{Emulator, EmulatorConfig, Mode};
use serde_json::json;

const PSID: &str = "1357924680";

fn client(emu: &Emulator, token: &str) -> Client {
    builder_for(emu, token).build().expect("client builds")
}

fn primary(emu: &Emulator) -> Client {
    client(emu, &emu.apps().primary.token)
}

fn secondary(emu: &Emulator) -> Client {
    client(emu, &emu.apps().secondary.token)
}

#[tokio::test]
async fn handover_round_trip() {
    let emu = emulator(Mode::Handover).await;
    let (bot, helpdesk) = (primary(&emu), secondary(&emu));
    let apps = emu.apps();

    let owner = bot.thread_owner(PSID).await.unwrap().expect("owned");
    assert_eq!(owner.app_id, apps.primary.app_id);

    bot.pass_thread_control_to_page_inbox(PSID, Some("human please")).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, PAGE_INBOX_APP_ID);

    bot.take_thread_control(PSID, None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, apps.primary.app_id);

    helpdesk.request_thread_control(PSID, Some("escalate")).await.unwrap();
    bot.pass_thread_control(PSID, &apps.secondary.app_id, None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, apps.secondary.app_id);

    helpdesk.release_thread_control(PSID, None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, apps.primary.app_id);

    let receivers = bot.secondary_receivers().await.unwrap();
    let ids: HashSet<_> = receivers.iter().map(|a| a.id.as_str()).collect();
    assert!(ids.contains(apps.secondary.app_id.as_str()) && ids.contains(PAGE_INBOX_APP_ID), "{receivers:?}");

    // The POST bodies on the wire are the documented ones.
    let pass =
        log(&emu).into_iter().find(|r| r["path"].as_str().unwrap_or("").ends_with("/pass_thread_control")).unwrap();
    assert_eq!(pass["body"]["recipient"]["id"], PSID);
    assert_eq!(pass["body"]["target_app_id"], PAGE_INBOX_APP_ID);
    assert_eq!(pass["body"]["metadata"], "human please");
}

#[tokio::test]
async fn conversation_routing_idle_and_extend() {
    let emu = emulator(Mode::Routing).await;
    let bot = primary(&emu);
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None, "threads start idle");

    bot.take_thread_control(PSID, None).await.unwrap();
    let owner = bot.thread_owner(PSID).await.unwrap().expect("owned after take");
    let before = owner.expiration.expect("routing mode sets an expiration");

    bot.extend_thread_control(PSID, Duration::from_secs(7 * 24 * 3600)).await.unwrap();
    let after = bot.thread_owner(PSID).await.unwrap().unwrap().expiration.unwrap();
    assert!(after > before, "{after} > {before}");

    bot.release_thread_control(PSID, None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None, "released threads go idle");
    let err = bot.extend_thread_control(PSID, Duration::from_secs(60)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
}

#[tokio::test]
async fn paging_to_the_end_and_resuming() {
    let emu = Emulator::start(EmulatorConfig { conversations: 500, ..EmulatorConfig::default() }).await.unwrap();
    let bot = primary(&emu);
    let query = ConversationsQuery::new().folder(Folder::Inbox).platform(Platform::Messenger).page_size(7);

    let all: Vec<_> = bot.conversations(query.clone()).unwrap().into_stream().try_collect().await.unwrap();
    assert!(all.len() > 14, "the generated inbox has several pages: {}", all.len());
    let ids: HashSet<_> = all.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), all.len(), "no conversation twice");
    assert!(all.windows(2).all(|w| w[0].updated_time >= w[1].updated_time), "newest first");
    assert!(all.iter().all(|c| c.folder.as_deref().is_none_or(|f| f == "inbox")));

    // Read two pages, stop, and resume from the cursor in a new pager.
    let mut pager = bot.conversations(query.clone()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.extend(pager.next_page().await.unwrap().unwrap().items);
    }
    let cursor = pager.after().unwrap().to_owned();
    drop(pager);
    let rest: Vec<_> = bot.conversations(query.after(cursor)).unwrap().into_stream().try_collect().await.unwrap();
    seen.extend(rest);
    assert_eq!(seen.iter().map(|c| &c.id).collect::<Vec<_>>(), all.iter().map(|c| &c.id).collect::<Vec<_>>());

    // Every page request was built from the cursor: no token in any URL.
    for entry in log(&emu) {
        assert_eq!(entry["token_in_query"], json!(false), "{entry}");
    }
}

#[tokio::test]
async fn pages_stream_and_fields_projection() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let query = ConversationsQuery::new().fields(["id", "snippet", "message_count", "participants"]).page_size(100);
    let pages: Vec<_> = bot.conversations(query).unwrap().pages().try_collect().await.unwrap();
    assert!(!pages.is_empty());
    assert!(!pages.last().unwrap().has_next);
    let first = &pages[0].items[0];
    assert!(first.snippet.is_some() && first.message_count.is_some() && !first.participants.is_empty());
    assert!(first.raw.get("snippet").is_some());
    assert!(first.unread_count.is_none(), "not requested, not returned");
}

#[tokio::test]
async fn error_kinds_from_real_behaviour() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);

    let err = client(&emu, "EAAGnot-a-real-token").thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.graph().unwrap().code, 190);

    let err = secondary(&emu).pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
    let g = err.graph().unwrap();
    assert_eq!((g.code, g.subcode), (10, Some(2018300)));
    assert!(g.fbtrace_id.is_some());

    let err = secondary(&emu).secondary_receivers().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permission, "{err}");

    let err =
        bot.conversations(ConversationsQuery::new().fields(["no_such_field"])).unwrap().next_page().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter, "{err}");

    let wrong_proof = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .app_secret("0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    assert_eq!(wrong_proof.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::InvalidParameter);
    let right_proof = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .app_secret(&emu.apps().primary.secret)
        .build()
        .unwrap();
    assert!(right_proof.thread_owner(PSID).await.unwrap().is_some());
}

#[tokio::test]
async fn error_kinds_from_faults() {
    let emu = emulator(Mode::Handover).await;
    let bot = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .max_retries(0)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let graph_error = |code: i64| {
        json!({"action": {"type": "graph_error", "status": 400,
        "error": {"message": "injected", "type": "OAuthException", "code": code, "fbtrace_id": "Ainjected"}}})
    };

    fault(&emu, graph_error(368));
    assert_eq!(bot.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::Blocked);
    fault(&emu, graph_error(613));
    assert_eq!(bot.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::RateLimit);
    fault(
        &emu,
        json!({"action": {"type": "status", "status": 500,
        "body": "{\"error\":{\"message\":\"An unknown error occurred\",\"code\":1,\"is_transient\":true}}"}}),
    );
    assert_eq!(bot.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::Server);
    fault(
        &emu,
        json!({"action": {"type": "malformed", "status": 502, "content_type": "text/html",
        "body": "<html><body>502 Bad Gateway</body></html>"}}),
    );
    let err = bot.thread_owner(PSID).await.unwrap_err();
    assert_eq!((err.kind(), err.http_status()), (ErrorKind::Server, Some(502)));
    fault(&emu, json!({"action": {"type": "malformed", "status": 200, "body": "{\"data\": ["}}));
    assert_eq!(bot.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::Protocol);
    fault(&emu, json!({"action": {"type": "reset"}}));
    assert_eq!(bot.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::Transport);
    // A 20 s delay, so a loose 10 s bound still tells the timeout from the answer.
    fault(&emu, json!({"action": {"type": "delay", "ms": 20_000}}));
    let started = Instant::now();
    let err = bot.thread_owner(PSID).await.unwrap_err();
    assert!(err.is_timeout() && err.kind() == ErrorKind::Transport, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn retry_rules() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let unavailable = json!({"status": 503,
        "body": "{\"error\":{\"message\":\"Service temporarily unavailable\",\"code\":2,\"is_transient\":true}}"});

    // A GET is retried through a burst of 5xx.
    fault(
        &emu,
        json!({"match": {"method": "GET"}, "count": 2, "action": {"type": "status", "status": 503, "body": unavailable["body"]}}),
    );
    assert!(bot.thread_owner(PSID).await.unwrap().is_some());
    assert_eq!(log(&emu).len(), 3);

    // A POST that may have run is never sent twice.
    emu.clear_request_log();
    fault(
        &emu,
        json!({"match": {"method": "POST"}, "count": 1, "action": {"type": "status", "status": 503, "body": unavailable["body"]}}),
    );
    let err = bot.pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(log(&emu).len(), 1);

    // ... nor after a reset mid-request.
    emu.clear_request_log();
    fault(&emu, json!({"match": {"method": "POST"}, "action": {"type": "reset"}}));
    assert_eq!(bot.take_thread_control(PSID, None).await.unwrap_err().kind(), ErrorKind::Transport);
    assert_eq!(log(&emu).len(), 1);

    // A throttled POST did not run, so it is retried.
    emu.clear_request_log();
    fault(
        &emu,
        json!({"match": {"method": "POST"}, "action": {"type": "graph_error", "status": 400, "headers": {"Retry-After": "0"},
        "error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613, "type": "OAuthException"}}}),
    );
    bot.pass_thread_control_to_page_inbox(PSID, None).await.unwrap();
    assert_eq!(log(&emu).len(), 2);
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, PAGE_INBOX_APP_ID);
}

#[tokio::test]
async fn long_rate_limit_wait_fails_at_once() {
    let emu = emulator(Mode::Handover).await;
    let bot = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .max_retry_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    fault(
        &emu,
        json!({"action": {"type": "graph_error", "status": 400, "headers": {"Retry-After": "120"},
        "error": {"message": "(#80006) There have been too many messenger api calls", "code": 80006}}}),
    );
    let started = Instant::now();
    let err = bot.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert_eq!(err.graph().unwrap().retry_after, Some(Duration::from_secs(120)));
    assert!(started.elapsed() < Duration::from_secs(10), "not the 120 s asked for: {:?}", started.elapsed());
    assert_eq!(log(&emu).len(), 1);
}

#[tokio::test]
async fn emulator_rate_limit_and_usage_headers() {
    let emu = emulator(Mode::Handover).await;
    emu.set_rate_limit(
        serde_json::from_value(
            json!({"enabled": true, "max_calls": 5, "window_secs": 60, "code": 613, "regain_minutes": 5}),
        )
        .unwrap(),
    );
    let new_client = || {
        Client::builder(&emu.apps().primary.token)
            .base_url(emu.url())
            .max_retry_wait(Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let bot = new_client();
    let mut first_error = None;
    for _ in 0..8 {
        if let Err(e) = bot.thread_owner(PSID).await {
            first_error = Some(e);
            break;
        }
    }
    // The headers said the Page is at its limit: the client refuses before
    // sending rather than making the throttling worse.
    let err = first_error.expect("throttled within 8 calls");
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    assert!(bot.last_usage().is_some_and(|u| u.max_call_count() >= 100.0), "{:?}", bot.last_usage());
    let sent = log(&emu).len();
    assert_eq!(sent, 5, "the call past the limit was refused client-side: {err}");
    assert!(err.graph().unwrap().retry_after.is_some_and(|w| w > Duration::from_secs(2)));

    // A client that has not seen the headers is throttled by the server, which
    // announces a regain time longer than max_retry_wait: it fails at once.
    let other = new_client();
    let err = other.thread_owner(PSID).await.unwrap_err();
    assert_eq!((err.kind(), err.graph().unwrap().code), (ErrorKind::RateLimit, 613));
    assert_eq!(err.graph().unwrap().retry_after, Some(Duration::from_secs(300)));
    assert_eq!(log(&emu).len(), sent + 1);
    // ... and from then on it knows, and sends nothing.
    assert_eq!(other.thread_owner(PSID).await.unwrap_err().kind(), ErrorKind::RateLimit);
    assert_eq!(log(&emu).len(), sent + 1);
}

#[tokio::test]
async fn invalid_input_sends_nothing() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let long = "x".repeat(1001);
    let checks = vec![
        bot.thread_owner("").await.unwrap_err(),
        bot.thread_owner("12/34").await.unwrap_err(),
        bot.thread_owner("12?x=1").await.unwrap_err(),
        bot.thread_owner("12 34").await.unwrap_err(),
        bot.thread_owner("12\n34").await.unwrap_err(),
        bot.thread_owner("12\u{0}34").await.unwrap_err(),
        bot.pass_thread_control(PSID, "abc", None).await.unwrap_err(),
        bot.pass_thread_control(PSID, "", None).await.unwrap_err(),
        bot.take_thread_control(PSID, Some(&long)).await.unwrap_err(),
        bot.extend_thread_control(PSID, Duration::from_secs(0)).await.unwrap_err(),
        bot.extend_thread_control(PSID, Duration::from_secs(604_801)).await.unwrap_err(),
        bot.extend_thread_control(PSID, Duration::from_millis(1500)).await.unwrap_err(),
        bot.conversations(ConversationsQuery::new().page_size(101)).unwrap_err(),
        bot.conversations(ConversationsQuery::new().user_id("a#b")).unwrap_err(),
    ];
    for err in checks {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!("junk".parse::<Folder>().is_err());
    assert!(Client::builder("t").base_url("http://example.com").build().is_err());
    assert!(log(&emu).is_empty(), "nothing was sent");
}

#[tokio::test]
async fn token_never_leaks() {
    let emu = emulator(Mode::Handover).await;
    let token = emu.apps().primary.token.clone();
    let bot =
        Client::builder(&token).base_url(emu.url()).max_retries(0).timeout(Duration::from_millis(300)).build().unwrap();
    let mut texts = vec![format!("{bot:?}")];
    let faults = [
        json!({"action": {"type": "reset"}}),
        json!({"action": {"type": "delay", "ms": 1000}}),
        json!({"action": {"type": "malformed", "status": 502, "body": "<html>bad gateway</html>"}}),
        json!({"action": {"type": "graph_error", "status": 400, "error": {"message": format!("echo {token}"), "code": 100}}}),
    ];
    for f in faults {
        fault(&emu, f);
        let err = bot.thread_owner(PSID).await.unwrap_err();
        texts.push(format!("{err} {err:?}"));
    }
    texts.push(format!("{:?}", secondary(&emu).pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err()));
    let mut pager = bot.conversations(ConversationsQuery::new().page_size(2)).unwrap();
    pager.next_page().await.unwrap();
    texts.push(format!("{pager:?}"));
    for entry in log(&emu) {
        texts.push(entry.to_string());
    }
    for t in texts {
        assert!(!t.contains(&token), "token leaked in: {t}");
    }
}

#[tokio::test]
async fn many_concurrent_calls_share_one_pool() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let calls = (0..200).map(|i| {
        let bot = bot.clone();
        async move { bot.thread_owner(&format!("{}", 1_000_000 + i)).await }
    });
    let results = futures_util::stream::iter(calls).buffer_unordered(64).collect::<Vec<_>>().await;
    assert!(results.iter().all(|r| matches!(r, Ok(Some(_)))));
}

#[tokio::test]
async fn close_is_shared_by_every_clone_and_pager() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let clone = bot.clone();
    let mut pager = bot.conversations(ConversationsQuery::new().page_size(5)).unwrap();
    assert!(!bot.is_closed() && !clone.is_closed());
    assert!(bot.thread_owner(PSID).await.unwrap().is_some());
    emu.clear_request_log();
    clone.close();
    assert!(bot.is_closed() && clone.is_closed(), "one closed state for all clones");
    let err = bot.thread_owner(PSID).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(matches!(
        err,
        messenger_handover::Error::Transport { failure: messenger_handover::TransportFailure::Closed, .. }
    ));
    assert!(pager.next_page().await.is_err(), "a pager made before close() stops too");
    assert!(log(&emu).is_empty(), "nothing sent after close(): {:?}", log(&emu));
}

#[tokio::test]
async fn pager_is_finished_only_after_the_last_page() {
    let emu = emulator(Mode::Handover).await;
    let bot = primary(&emu);
    let mut pager = bot.conversations(ConversationsQuery::new().folder(Folder::Spam).page_size(100)).unwrap();
    assert!(!pager.is_finished());
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        pages += 1;
        assert_eq!(pager.is_finished(), !page.has_next, "page {pages}");
    }
    assert!(pages >= 1 && pager.is_finished());
    assert!(pager.next_page().await.unwrap().is_none(), "and stays finished");
}

/// The prefetch runs on the runtime that read the page before it; if that
/// runtime goes away mid-prefetch, the next read reports a transport error
/// (the JoinError path) and the pager stays where it was.
#[test]
fn a_prefetch_cut_off_by_its_runtime_is_an_error_then_refetched() {
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let emu = server_rt.block_on(emulator(Mode::Handover));
    let bot = primary(&emu);
    let first_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (mut pager, after) = first_rt.block_on(async {
        let mut pager = bot.conversations(ConversationsQuery::new().page_size(5)).unwrap();
        let page = pager.next_page().await.unwrap().unwrap();
        assert!(page.has_next);
        // The prefetch of page two hangs until its runtime is dropped.
        fault(
            &emu,
            json!({"match": {"path_contains": "conversations"}, "count": 1, "action": {"type": "delay", "ms": 30_000}}),
        );
        // Let the prefetch reach the emulator.
        for _ in 0..200 {
            if log(&emu).len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let after = pager.after();
        (pager, after)
    });
    assert_eq!(log(&emu).len(), 2, "page one and the hanging prefetch: {:?}", log(&emu));
    drop(first_rt);
    let second_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    second_rt.block_on(async {
        let err = pager.next_page().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
        assert!(err.to_string().contains("prefetch"), "{err}");
        assert_eq!(pager.after(), after, "the pager did not move");
        let page = pager.next_page().await.unwrap().expect("page two, fetched again");
        assert_eq!(page.items.len(), 5);
    });
    let log = log(&emu);
    assert_eq!(log[2]["query"]["after"], log[1]["query"]["after"], "the same page asked for again: {log:?}");
}
