//! Messages, field expansion, bumping and the conversations pacing, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use messenger_handover_emulator::AppRole;
use serde_json::{json, Value};
use std::collections::HashSet;

mod common;
use common::T;

/// The first conversation with more than `n` messages.
fn conversation_with_more_than(t: &T, n: u64) -> Value {
    t.emu
        .conversations()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["message_count"].as_u64().unwrap() > n)
        .cloned()
        .unwrap()
}

/// `GET /{version}/{path_query}` as the primary app.
async fn get(t: &T, path_query: &str) -> (u16, Value) {
    t.get_node(AppRole::Primary, path_query).await
}

#[tokio::test]
async fn messages_page_newest_first_with_the_20_message_detail_limit() {
    let t = T::new().await;
    let conv = conversation_with_more_than(&t, 25);
    let id = conv["id"].as_str().unwrap();
    let count = conv["message_count"].as_u64().unwrap() as usize;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut calls = 0;
    loop {
        let cursor = after.as_deref().map(|a| format!("&after={a}")).unwrap_or_default();
        let (s, b) = get(&t, &format!("{id}/messages?fields=id,created_time,from,to,message&limit=7{cursor}")).await;
        assert_eq!(s, 200, "{b}");
        calls += 1;
        seen.extend(b["data"].as_array().unwrap().iter().cloned());
        if b["paging"].get("next").is_none() {
            break;
        }
        // `next` carries the token, as Graph's does; the cursor is what clients use.
        assert!(b["paging"]["next"].as_str().unwrap().contains("access_token="));
        after = Some(b["paging"]["cursors"]["after"].as_str().unwrap().to_string());
    }
    assert_eq!(calls, count.div_ceil(7));
    assert_eq!(seen.len(), count);
    let ids: HashSet<&str> = seen.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), count);
    for (i, m) in seen.iter().enumerate() {
        if i < 20 {
            assert!(m["created_time"].as_str().unwrap().ends_with("+0000"), "{m}");
            assert!(m["from"]["id"].is_string() && m["to"]["data"][0]["id"].is_string(), "{m}");
            assert!(m["message"].is_string());
        } else {
            assert_eq!(m.as_object().unwrap().len(), 1, "older than the 20 newest: id only, {m}");
        }
    }
    let times: Vec<&str> = seen[..20].iter().map(|m| m["created_time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Deterministic, and the default fields are id and created_time.
    let (_, again) = get(&t, &format!("{id}/messages?limit=3")).await;
    assert_eq!(again["data"][0]["id"], seen[0]["id"]);
    assert_eq!(again["data"][0].as_object().unwrap().len(), 2);
    // Unknown conversation, unknown field, bad cursor.
    let (s, b) = get(&t, "t_999/messages").await;
    assert_eq!((s, b["error"]["code"].as_i64()), (400, Some(100)));
    let (_, b) = get(&t, &format!("{id}/messages?fields=id,nope")).await;
    assert_eq!(b["error"]["message"], "(#100) Tried accessing nonexisting field (nope) on node type (Message)");
    let (_, b) = get(&t, &format!("{id}/messages?after=garbage")).await;
    assert_eq!(b["error"]["code"], 100);
}

#[tokio::test]
async fn field_expansion_on_the_conversations_edge() {
    let t = T::new().await;
    let fields = "id,messages.limit(3){id,created_time,from,to,message},participants{name}";
    let (s, b) = get(&t, &format!("me/conversations?fields={fields}&limit=10")).await;
    assert_eq!(s, 200, "{b}");
    for c in b["data"].as_array().unwrap() {
        let msgs = c["messages"]["data"].as_array().unwrap();
        assert!(!msgs.is_empty() && msgs.len() <= 3, "{c}");
        assert!(msgs[0]["message"].is_string() && msgs[0]["from"].is_object());
        let (_, direct) = get(&t, &format!("{}/messages?limit=3", c["id"].as_str().unwrap())).await;
        assert_eq!(msgs[0]["id"], direct["data"][0]["id"]);
        for p in c["participants"]["data"].as_array().unwrap() {
            let keys: HashSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, HashSet::from(["name", "id"]), "{p}");
        }
        assert!(c.get("updated_time").is_none());
    }
    // The node itself answers the same expansion.
    let id = b["data"][0]["id"].as_str().unwrap();
    let (s, node) = get(&t, &format!("{id}?fields={fields}")).await;
    assert_eq!((s, &node["messages"]), (200, &b["data"][0]["messages"]));

    for bad in ["id,messages{id", "id,,snippet", "messages.limit(3", "id}"] {
        let (s, e) = get(&t, &format!("me/conversations?fields={}", urlencode(bad))).await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(e["error"]["code"], 2500, "{bad}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().starts_with("Syntax error"));
    }
    let (_, e) = get(&t, "me/conversations?fields=messages{nope}").await;
    assert_eq!(e["error"]["code"], 100);
    let (_, e) = get(&t, "me/conversations?fields=participants{nope}").await;
    assert_eq!(e["error"]["code"], 100);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_bumped_conversation_moves_to_the_top_mid_walk() {
    let t = T::new().await;
    let (_, first) = get(&t, "me/conversations?limit=5&fields=id,updated_time,message_count").await;
    let after = first["paging"]["cursors"]["after"].as_str().unwrap().to_string();
    let (_, second) = get(&t, &format!("me/conversations?limit=5&after={after}&fields=id")).await;
    let moved = second["data"][4]["id"].as_str().unwrap().to_string();
    let before = first["data"][0]["message_count"].as_u64().unwrap();
    let summary = t.emu.bump_conversation(&moved, Some("Any news?")).unwrap();
    assert_eq!(summary["id"], moved.as_str());
    assert!(t.emu.bump_conversation("t_0", None).is_none());
    let (_, top) = get(&t, "me/conversations?limit=1&fields=id,updated_time,message_count,snippet").await;
    assert_eq!(top["data"][0]["id"], moved.as_str());
    assert!(top["data"][0]["updated_time"].as_str().unwrap() > first["data"][0]["updated_time"].as_str().unwrap());
    assert!(before > 0);
    // Its newest message is the new one.
    let (_, msgs) = get(&t, &format!("{moved}/messages?fields=message&limit=1")).await;
    assert_eq!(msgs["data"][0]["message"], "Any news?");
    // The walk resumed from the old cursor sees the item before `moved` again: a duplicate.
    let (_, resumed) = get(&t, &format!("me/conversations?limit=5&after={after}&fields=id")).await;
    assert_eq!(resumed["data"][0]["id"], first["data"][4]["id"]);
    // Through the admin API too.
    let resp = t
        .http
        .post(format!("{}/_emulator/conversations/bump", t.emu.url()))
        .body(json!({"id": first["data"][3]["id"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(t.emu.conversations()[0]["id"], first["data"][3]["id"]);
    t.emu.reset();
    assert_eq!(t.emu.conversations()[0]["id"], first["data"][0]["id"]);
}

#[tokio::test]
async fn conversations_pacing_refuses_a_third_call_within_a_second() {
    let t = T::new().await;
    t.emu.set_conversations_pacing(2);
    let codes: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(get(&t, "me/conversations?limit=1").await.0);
        }
        v
    };
    // Three calls in far less than a second on any machine that runs this suite at all.
    assert_eq!(codes, vec![200, 200, 400]);
    let log = t.emu.request_log();
    assert_eq!(log.last().unwrap().error_code, Some(613));
    // Other edges are not paced.
    assert_eq!(get(&t, "me/thread_owner?recipient=5").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(get(&t, "me/conversations?limit=1").await.0, 200);
    // Through the admin API; 0 turns it off.
    let url = format!("{}/_emulator/pacing", t.emu.url());
    let resp = t.http.put(&url).body(r#"{"conversations_per_second": 0}"#).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    for _ in 0..5 {
        assert_eq!(get(&t, "me/conversations?limit=1").await.0, 200);
    }
}
