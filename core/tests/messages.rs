//! The messages pager and `messages=N` field expansion, against the emulator over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bot as client, log, seen};
use futures_util::TryStreamExt;
use messenger_handover::{Client, ConversationsQuery, ErrorKind, MessagesQuery};
use messenger_handover_emulator::Emulator;

async fn emulator() -> Emulator {
    common::emulator_with(60).await
}

/// The conversation with the most messages (at least 30, so that paging and
/// the 20-message detail limit both show).
fn busiest(emu: &Emulator) -> (String, usize) {
    let all = emu.conversations();
    let best = all.as_array().unwrap().iter().max_by_key(|c| c["message_count"].as_u64().unwrap()).unwrap();
    let n = best["message_count"].as_u64().unwrap() as usize;
    assert!(n >= 30, "the emulator's busiest conversation has {n} messages");
    (best["id"].as_str().unwrap().to_owned(), n)
}

/// The ids of every message the query pages through, in order.
async fn message_ids(bot: &Client, conv: &str, query: MessagesQuery) -> Vec<String> {
    bot.messages(conv, query).unwrap().into_stream().map_ok(|m| m.id).try_collect().await.unwrap()
}

#[tokio::test]
async fn messages_page_to_the_end_newest_first_with_the_detail_limit() {
    let emu = emulator().await;
    let bot = client(&emu);
    let (conv, count) = busiest(&emu);
    let msgs: Vec<_> =
        bot.messages(&conv, MessagesQuery::new().page_size(7)).unwrap().into_stream().try_collect().await.unwrap();
    assert_eq!(msgs.len(), count);
    assert_eq!(seen(&emu, "GET", &format!("/{conv}/messages")), count.div_ceil(7));
    let entry = log(&emu).into_iter().find(|r| r["path"].as_str().unwrap().ends_with("/messages")).unwrap();
    assert!(entry["path"].as_str().unwrap().ends_with(&format!("/{conv}/messages")), "{entry}");
    assert_eq!(entry["query"]["fields"], "id,created_time,from,to,message");
    // Graph details only the 20 newest; older ones are bare ids.
    for m in &msgs[..20] {
        assert!(m.created_time.is_some() && m.sender.is_some() && m.text.is_some(), "{m:?}");
        assert!(!m.recipients.is_empty());
    }
    assert!(msgs[20..].iter().all(|m| m.text.is_none() && m.sender.is_none()));
    let times: Vec<_> = msgs[..20].iter().map(|m| m.created_time.unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn messages_resume_exactly_mid_page() {
    let emu = emulator().await;
    let bot = client(&emu);
    let (conv, _) = busiest(&emu);
    let everything = message_ids(&bot, &conv, MessagesQuery::new().page_size(10)).await;
    for stop in [3, 10, 15, 25] {
        let mut pager = bot.messages(&conv, MessagesQuery::new().page_size(10)).unwrap();
        let mut first = Vec::new();
        while first.len() < stop {
            first.push(pager.next_item().await.unwrap().unwrap().id);
        }
        let resume = pager.after().unwrap();
        first.extend(message_ids(&bot, &conv, MessagesQuery::new().page_size(10).after(resume)).await);
        assert_eq!(first, everything, "stopped after {stop}");
    }
}

#[tokio::test]
async fn conversations_with_their_newest_messages_by_field_expansion() {
    let emu = emulator().await;
    let bot = client(&emu);
    let convs: Vec<_> = bot
        .conversations(ConversationsQuery::new().messages(3).page_size(25))
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert!(!convs.is_empty());
    for c in &convs {
        assert!(!c.messages.is_empty() && c.messages.len() <= 3, "{c:?}");
        assert!(c.messages.iter().all(|m| m.text.is_some() && m.sender.is_some()));
        assert!(c.updated_time.is_some() && !c.participants.is_empty(), "the default fields come too");
    }
    let entry = log(&emu).into_iter().find(|r| r["path"].as_str().unwrap().ends_with("/conversations")).unwrap();
    assert!(entry["query"]["fields"]
        .as_str()
        .unwrap()
        .ends_with(",messages.limit(3){id,created_time,from,to,message}"));

    // The caller's own expansion, validated rather than refused.
    let convs: Vec<_> = bot
        .conversations(ConversationsQuery::new().fields(["id", "messages.limit(2){id,message}"]))
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert!(convs.iter().all(|c| c.messages.len() <= 2 && c.messages.iter().all(|m| m.text.is_some())));
}

#[tokio::test]
async fn bad_arguments_are_refused_before_sending() {
    let emu = emulator().await;
    let bot = client(&emu);
    let errors = [
        bot.conversations(ConversationsQuery::new().messages(0)).unwrap_err(),
        bot.conversations(ConversationsQuery::new().messages(21)).unwrap_err(),
        bot.conversations(ConversationsQuery::new().fields(["messages.limit(3){id"])).unwrap_err(),
        bot.conversations(ConversationsQuery::new().fields(["messages.limit(x){id}"])).unwrap_err(),
        bot.messages("t_1/../x", MessagesQuery::new()).unwrap_err(),
        bot.messages("..", MessagesQuery::new()).unwrap_err(),
        bot.messages("t_1", MessagesQuery::new().page_size(0)).unwrap_err(),
        bot.messages("t_1", MessagesQuery::new().after("mh1.%%%")).unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }
    assert!(log(&emu).is_empty());
}
