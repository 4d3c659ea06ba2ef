//! Conversation Routing through the client, against the emulator over real
//! HTTP: feature status, the Instagram Inbox, #27 and the thread-control
//! hints, and the routing rules (default app or none, idle threads, expiry on
//! the emulated clock, extend, request on an idle thread, who may see the owner).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder_for, log};
use messenger_handover::routing::thread_control_hint;
use messenger_handover::{
    BatchOp, BatchValue, Client, ErrorKind, FeatureStatus, Platform, INSTAGRAM_INBOX_APP_ID, PAGE_INBOX_APP_ID,
};
use messenger_handover_emulator::{AppRole, Emulator, EmulatorConfig, Mode};

const PSID: &str = "1357924680";
const DAY: i64 = 24 * 3600;

async fn routing(default_app: Option<AppRole>) -> Emulator {
    Emulator::start(EmulatorConfig { mode: Mode::Routing, default_app, ..EmulatorConfig::default() }).await.unwrap()
}

fn client(emu: &Emulator, role: AppRole) -> Client {
    builder_for(emu, &emu.apps().get(role).token).build().unwrap()
}

fn id(role: AppRole) -> String {
    role.app_id().to_owned()
}

#[tokio::test]
async fn feature_status_reads_the_page_field() {
    let status = FeatureStatus { hop_v2: true, msgr_multi_app: false, ig_multi_app: true };
    let emu = Emulator::start(EmulatorConfig {
        mode: Mode::Routing,
        feature_status: messenger_handover_emulator::FeatureStatus {
            hop_v2: true,
            msgr_multi_app: false,
            ig_multi_app: true,
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let bot = client(&emu, AppRole::Primary);
    assert_eq!(bot.feature_status().await.unwrap(), status);
    let entry = log(&emu).pop().unwrap();
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], format!("/v26.0/{}", emu.page_id()));
    assert_eq!(entry["query"]["fields"], "messaging_feature_status");
    // The same through a batch.
    let results = bot.batch(vec![BatchOp::feature_status()]).await.unwrap();
    assert!(matches!(&results[0], Ok(BatchValue::FeatureStatus(s)) if *s == status), "{results:?}");
}

#[tokio::test]
async fn pass_to_the_instagram_inbox() {
    let emu = routing(Some(AppRole::Primary)).await;
    let bot = client(&emu, AppRole::Primary);
    bot.take_thread_control(PSID, None).await.unwrap();
    bot.pass_thread_control_to_inbox(PSID, Some("IG human"), Platform::Instagram).await.unwrap();
    let owner = bot.thread_owner(PSID).await.unwrap().unwrap();
    assert_eq!(owner.app_id, INSTAGRAM_INBOX_APP_ID);
    let pass = log(&emu).into_iter().rev().find(|r| r["path"].as_str().unwrap().ends_with("/pass_thread_control"));
    assert_eq!(pass.unwrap()["body"]["target_app_id"], INSTAGRAM_INBOX_APP_ID);

    // Messenger's inbox through the same call, and the batch op for Instagram.
    bot.take_thread_control("24680", None).await.unwrap();
    bot.pass_thread_control_to_inbox("24680", None, Platform::Messenger).await.unwrap();
    assert_eq!(bot.thread_owner("24680").await.unwrap().unwrap().app_id, PAGE_INBOX_APP_ID);
    bot.take_thread_control("35791", None).await.unwrap();
    let r = bot
        .batch(vec![BatchOp::pass_thread_control_to_page_inbox("35791", None, Some(Platform::Instagram))])
        .await
        .unwrap();
    assert!(matches!(r[0], Ok(BatchValue::Done)), "{r:?}");
    assert_eq!(bot.thread_owner("35791").await.unwrap().unwrap().app_id, INSTAGRAM_INBOX_APP_ID);
}

#[tokio::test]
async fn take_without_a_default_app_is_27_with_its_hint() {
    let emu = routing(None).await;
    let err = client(&emu, AppRole::Primary).take_thread_control(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
    let g = err.graph().unwrap();
    assert_eq!(g.code, 27);
    let hint = g.hint.expect("#27 carries a hint");
    assert_eq!(Some(hint), thread_control_hint(27, None));
    assert!(hint.contains("default app"), "{hint}");
    assert!(err.to_string().contains(hint), "the hint is in the message: {err}");
}

#[tokio::test]
async fn thread_control_errors_carry_hints() {
    let emu = routing(Some(AppRole::Primary)).await;
    let (bot, other) = (client(&emu, AppRole::Primary), client(&emu, AppRole::Secondary));
    bot.take_thread_control(PSID, None).await.unwrap();
    // Another app holds the thread: pass is refused, and the hint says what to do.
    let err = other.pass_thread_control_to_page_inbox(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
    let hint = err.graph().unwrap().hint.expect("a hint");
    assert!(hint.contains("thread_owner") && hint.contains("request_thread_control"), "{hint}");
    assert!(err.to_string().ends_with(hint), "{err}");
    // Only the default app may take.
    let err = other.take_thread_control(PSID, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
    assert!(err.graph().unwrap().hint.is_some(), "{err}");
    // A permission error has no hint.
    let err = Client::builder("EAAG-not-a-token").base_url(emu.url()).build().unwrap().thread_owner(PSID).await;
    assert!(err.unwrap_err().graph().is_some_and(|g| g.hint.is_none()));
}

#[tokio::test]
async fn without_a_default_app_every_app_may_answer_an_idle_thread() {
    let emu = routing(None).await;
    let (bot, other) = (client(&emu, AppRole::Primary), client(&emu, AppRole::Secondary));
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None, "threads start idle");
    // Any app may pass an idle thread.
    other.pass_thread_control(PSID, &id(AppRole::Primary), None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap().unwrap().app_id, id(AppRole::Primary));
    // Request on an idle thread passes it at once.
    other.request_thread_control("97531", Some("mine")).await.unwrap();
    assert_eq!(other.thread_owner("97531").await.unwrap().unwrap().app_id, id(AppRole::Secondary));
}

#[tokio::test]
async fn with_a_default_app_only_it_answers_an_idle_thread() {
    let emu = routing(Some(AppRole::Primary)).await;
    let (bot, other) = (client(&emu, AppRole::Primary), client(&emu, AppRole::Secondary));
    let err = other.pass_thread_control(PSID, &id(AppRole::Primary), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "{err}");
    bot.pass_thread_control(PSID, &id(AppRole::Secondary), None).await.unwrap();
    assert_eq!(other.thread_owner(PSID).await.unwrap().unwrap().app_id, id(AppRole::Secondary));
    // Request on an idle thread passes it, whoever asks.
    other.request_thread_control("86420", None).await.unwrap();
    assert_eq!(bot.thread_owner("86420").await.unwrap().unwrap().app_id, id(AppRole::Secondary));
}

#[tokio::test]
async fn control_expires_after_a_day_and_extend_lengthens_it() {
    let emu = routing(Some(AppRole::Primary)).await;
    let bot = client(&emu, AppRole::Primary);
    bot.take_thread_control(PSID, None).await.unwrap();
    let owner = bot.thread_owner(PSID).await.unwrap().expect("owned after take");
    let expiration = owner.expiration.expect("routing answers an expiration");
    let now = emu.advance_clock(0).unwrap();
    let left = expiration - now;
    assert!(left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24), "{left}");

    emu.advance_clock(DAY - 60).unwrap();
    assert!(bot.thread_owner(PSID).await.unwrap().is_some(), "still held a minute before expiry");
    emu.advance_clock(120).unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None, "idle once the day is over");
    let err = bot.extend_thread_control(PSID, Duration::from_secs(3600)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ThreadControl, "an idle thread cannot be extended: {err}");

    bot.take_thread_control(PSID, None).await.unwrap();
    bot.extend_thread_control(PSID, Duration::from_secs(7 * 86_400)).await.unwrap();
    emu.advance_clock(6 * DAY).unwrap();
    assert!(bot.thread_owner(PSID).await.unwrap().is_some(), "extended to 7 days");
    emu.advance_clock(DAY + 60).unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None);

    // Release makes the thread idle at once.
    bot.take_thread_control(PSID, None).await.unwrap();
    bot.release_thread_control(PSID, None).await.unwrap();
    assert_eq!(bot.thread_owner(PSID).await.unwrap(), None);
}

#[tokio::test]
async fn only_the_owner_and_the_default_app_see_who_owns() {
    let emu = routing(Some(AppRole::Primary)).await;
    let (bot, other, inbox) =
        (client(&emu, AppRole::Primary), client(&emu, AppRole::Secondary), client(&emu, AppRole::PageInbox));
    bot.take_thread_control(PSID, None).await.unwrap();
    bot.pass_thread_control(PSID, &id(AppRole::Secondary), None).await.unwrap();
    for (who, c) in [("owner", &other), ("default app", &bot)] {
        let o = c.thread_owner(PSID).await.unwrap().unwrap();
        assert_eq!(o.app_id, id(AppRole::Secondary), "{who}");
        assert!(o.expiration.is_some(), "{who}");
    }
    // Any other app learns only until when the thread is held.
    let hidden = inbox.thread_owner(PSID).await.unwrap().expect("the thread is held");
    assert_eq!(hidden.app_id, "", "not told which app");
    assert!(hidden.expiration.is_some());
    // thread_owners answers the same through a batch.
    let owners = inbox.thread_owners([PSID, "11223344"]).await.unwrap();
    assert_eq!(owners[0].as_ref().unwrap().as_ref().map(|o| o.app_id.as_str()), Some(""));
    assert_eq!(owners[1].as_ref().unwrap(), &None, "an idle thread has no owner");
}
