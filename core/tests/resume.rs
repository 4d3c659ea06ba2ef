//! Resuming a pager is exact to the item (issue 11, item 1), and a runaway
//! server stops it (item 7). Against the emulator over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::{bot as client, emulator_with as emulator, fault, seen};
use messenger_handover::{Client, ConversationsQuery, ErrorKind, MAX_EMPTY_PAGES};
use serde_json::json;

fn query() -> ConversationsQuery {
    ConversationsQuery::new().page_size(100)
}

async fn all_ids(bot: &Client, after: Option<String>) -> Vec<String> {
    let mut q = query();
    q.after = after;
    let mut pager = bot.conversations(q).unwrap();
    let mut ids = Vec::new();
    while let Some(c) = pager.next_item().await.unwrap() {
        ids.push(c.id);
    }
    ids
}

fn assert_exact(first: &[String], rest: &[String], everything: &[String]) {
    let joined: Vec<String> = first.iter().chain(rest).cloned().collect();
    assert_eq!(joined.len(), everything.len(), "nothing lost, nothing doubled");
    assert_eq!(joined, everything, "the same items in the same order");
}

#[tokio::test]
async fn item_by_item_break_after_150_resumes_at_151() {
    let emu = emulator(600).await;
    let bot = client(&emu);
    let everything = all_ids(&bot, None).await;
    assert!(everything.len() >= 250, "{}", everything.len());

    for stop in [1, 30, 99, 100, 101, 150, 199, 200, 249, 250] {
        let mut pager = bot.conversations(query()).unwrap();
        let mut first = Vec::new();
        while first.len() < stop {
            first.push(pager.next_item().await.unwrap().unwrap().id);
        }
        let resume = pager.after();
        drop(pager);
        let rest = all_ids(&bot, resume).await;
        assert_exact(&first, &rest, &everything);
    }
}

/// A mid-page resume point re-fetches its page as it was fetched: resuming
/// with another page size (smaller, larger) still yields the next item
/// exactly. With a smaller one, items after the first re-fetched page came
/// again (up to the whole page when more than the 8 remembered ids had been
/// handed out of it).
#[tokio::test]
async fn resuming_with_another_page_size_is_exact() {
    let emu = emulator(120).await;
    let bot = client(&emu);
    let everything = all_ids(&bot, None).await;
    let walk = |size: u32, after: Option<String>| {
        let bot = bot.clone();
        async move {
            let mut pager =
                bot.conversations(ConversationsQuery { after, ..ConversationsQuery::new().page_size(size) })?;
            let mut ids = Vec::new();
            while let Some(c) = pager.next_item().await? {
                ids.push(c.id);
            }
            Ok::<_, messenger_handover::Error>(ids)
        }
    };
    for (before, after, stop) in [(10, 5, 7), (20, 5, 15), (20, 3, 19), (5, 20, 3), (10, 7, 13)] {
        let mut pager = bot.conversations(ConversationsQuery::new().page_size(before)).unwrap();
        let mut first = Vec::new();
        while first.len() < stop {
            first.push(pager.next_item().await.unwrap().unwrap().id);
        }
        let rest = walk(after, pager.after()).await.unwrap();
        assert_exact(&first, &rest, &everything);
    }
}

#[tokio::test]
async fn page_by_page_and_a_caller_counting_items_resume_exactly() {
    let emu = emulator(600).await;
    let bot = client(&emu);
    let everything = all_ids(&bot, None).await;

    // Page by page: `after()` is the end of the last page handed out.
    let mut pager = bot.conversations(query()).unwrap();
    let first: Vec<String> = pager.next_page().await.unwrap().unwrap().items.into_iter().map(|c| c.id).collect();
    let rest = all_ids(&bot, pager.after()).await;
    assert_exact(&first, &rest, &everything);

    // A binding hands out a page's items itself and asks for the point after 50 of page 2.
    let mut pager = bot.conversations(query()).unwrap();
    let mut first: Vec<String> = pager.next_page().await.unwrap().unwrap().items.into_iter().map(|c| c.id).collect();
    let page2 = pager.next_page().await.unwrap().unwrap();
    first.extend(page2.items.into_iter().take(50).map(|c| c.id));
    let resume = pager.position().resume_after(50);
    assert!(resume.as_deref().is_some_and(|r| r.starts_with("mh1.")), "{resume:?}");
    let rest = all_ids(&bot, resume.clone()).await;
    assert_exact(&first, &rest, &everything);

    // A resumed pager resumes again exactly (a token made from a token).
    let mut q = query();
    q.after = resume;
    let mut pager = bot.conversations(q).unwrap();
    let mut more = Vec::new();
    for _ in 0..20 {
        more.push(pager.next_item().await.unwrap().unwrap().id);
    }
    let rest2 = all_ids(&bot, pager.after()).await;
    first.extend(more);
    assert_exact(&first, &rest2, &everything);
}

/// `next_page_ready` hands over a prefetched page without awaiting; a walk
/// that takes every ready page that way (and awaits the rest) sees every item
/// once, in order, and each ready page starts the following prefetch.
#[tokio::test]
async fn ready_pages_are_handed_over_without_awaiting_and_lose_nothing() {
    let emu = emulator(600).await;
    let bot = client(&emu);
    let everything = all_ids(&bot, None).await;

    let mut pager = bot.conversations(query()).unwrap();
    assert!(pager.next_page_ready().is_none(), "the first page is not fetched before it is asked for");
    let (mut ids, mut ready_pages, mut tries) = (Vec::new(), 0, 0);
    loop {
        let page = match pager.next_page_ready() {
            Some(ready) => {
                ready_pages += 1;
                tries = 0;
                ready.unwrap()
            }
            // Give the prefetch time to land, then await it after all.
            None if tries < 200 && !ids.is_empty() => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            }
            None => pager.next_page().await.unwrap(),
        };
        let Some(page) = page else { break };
        ids.extend(page.items.into_iter().map(|c| c.id));
    }
    assert_eq!(ids, everything, "every item once, in order");
    // Every page but the first (awaited: nothing is fetched before it is
    // asked for), and the end of the walk.
    assert_eq!(ready_pages, everything.len().div_ceil(100), "pages handed over ready");
    assert!(pager.is_finished());
}

/// The prefetch is one page: a page is requested only once the caller has
/// asked for the page before it (a page the caller awaits starts the next
/// request itself, as soon as it has read the cursor). However long the
/// caller dawdles, the walk never runs further ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prefetch_stays_one_page_ahead_of_the_caller() {
    let emu = emulator(1200).await;
    let bot = client(&emu);
    let everything = all_ids(&bot, None).await;
    let pages = everything.len().div_ceil(100);
    assert!(pages >= 5, "{pages} pages");
    let before = seen(&emu, "GET", "/conversations");
    let requests = || seen(&emu, "GET", "/conversations") - before;
    let settle = || async {
        // Until nothing more arrives for a while: a runaway chain would
        // have sent a request or two more by then.
        let mut last = requests();
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            let now = requests();
            if now == last {
                return now;
            }
            last = now;
        }
    };

    let mut pager = bot.conversations(query()).unwrap();
    assert_eq!(settle().await, 0, "nothing before the first page is asked for");
    let mut ids: Vec<String> = Vec::new();
    for page in 1..=3 {
        let got = pager.next_page().await.unwrap().unwrap();
        ids.extend(got.items.into_iter().map(|c| c.id));
        // Pages 1..=page handed out, page+1 prefetched.
        assert_eq!(settle().await, page + 1, "requests after page {page} was handed out");
    }
    // Page 4 has landed; ask for it and at once for page 5, still in flight:
    // page 5's own fetch starts page 6 (the caller is waiting), and no more.
    for _ in 4..=5 {
        let got = pager.next_page().await.unwrap().unwrap();
        ids.extend(got.items.into_iter().map(|c| c.id));
    }
    assert_eq!(settle().await, 6.min(pages), "requests after pages 4 and 5 were asked for back to back");
    while let Some(page) = pager.next_page().await.unwrap() {
        ids.extend(page.items.into_iter().map(|c| c.id));
    }
    assert_eq!(requests(), pages, "one request per page in all");
    assert_eq!(ids, everything, "every item once, in order");
}

#[tokio::test]
async fn a_damaged_token_is_refused_before_sending() {
    let emu = emulator(10).await;
    let bot = client(&emu);
    let err = bot.conversations(query().after("mh1.not-base64-json")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(seen(&emu, "GET", "/conversations"), 0);
}

#[tokio::test]
async fn a_repeated_cursor_stops_with_protocol() {
    let emu = emulator(10).await;
    let bot = client(&emu);
    let body = json!({"data": [{"id": "t_1"}], "paging": {"cursors": {"after": "SAME"}, "next": "https://x/next"}});
    fault(
        &emu,
        json!({"match": {"path_contains": "/conversations"}, "count": 1000,
               "action": {"type": "status", "status": 200, "body": body.to_string()}}),
    );
    let mut pager = bot.conversations(query()).unwrap();
    let mut outcome = Ok(());
    for _ in 0..100 {
        match pager.next_page().await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Protocol);
    assert!(seen(&emu, "GET", "/conversations") <= 3, "stopped at once");
    assert!(pager.next_page().await.unwrap().is_none(), "and stays stopped");
}

#[tokio::test]
async fn endless_empty_pages_stop_with_protocol() {
    let emu = emulator(10).await;
    let bot = client(&emu);
    for i in 0..100 {
        let body = json!({"data": [], "paging": {"cursors": {"after": format!("C{i}")}, "next": "https://x/next"}});
        fault(
            &emu,
            json!({"match": {"path_contains": "/conversations"},
                   "action": {"type": "status", "status": 200, "body": body.to_string()}}),
        );
    }
    let mut pager = bot.conversations(query()).unwrap();
    let err = loop {
        match pager.next_page().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("an endless walk ended by itself"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Protocol);
    let calls = seen(&emu, "GET", "/conversations");
    assert!(calls <= MAX_EMPTY_PAGES as usize + 2, "bounded: {calls} requests");
}

#[tokio::test]
async fn a_few_empty_pages_are_tolerated() {
    let emu = emulator(10).await;
    let bot = client(&emu);
    for i in 0..3 {
        let body = json!({"data": [], "paging": {"cursors": {"after": format!("C{i}")}, "next": "https://x/next"}});
        fault(
            &emu,
            json!({"match": {"path_contains": "/conversations"},
                   "action": {"type": "status", "status": 200, "body": body.to_string()}}),
        );
    }
    let real = json!({"data": [{"id": "t_9"}], "paging": {"cursors": {"after": "END"}}});
    fault(
        &emu,
        json!({"match": {"path_contains": "/conversations"},
               "action": {"type": "status", "status": 200, "body": real.to_string()}}),
    );
    let mut pager = bot.conversations(query()).unwrap();
    let mut ids = HashSet::new();
    while let Some(c) = pager.next_item().await.unwrap() {
        ids.insert(c.id);
    }
    assert_eq!(ids, HashSet::from(["t_9".to_owned()]));
}
