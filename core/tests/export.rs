//! The inbox export against the emulator over HTTP: the walk, dedupe,
//! `since`, pacing, checkpoints, and kill-and-resume in a child process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{fault, log, seen};
use futures_util::TryStreamExt;
use messenger_handover::{Client, ConversationsQuery, ErrorKind, ExportOptions, Folder, Platform};
use messenger_handover_emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

async fn emulator(conversations: usize) -> Emulator {
    Emulator::start(EmulatorConfig { conversations, ..EmulatorConfig::default() }).await.expect("emulator starts")
}

fn client_for(url: &str, page: &str, token: &str) -> Client {
    Client::builder(token)
        .base_url(url)
        .page_id(page)
        .max_retries(0)
        .retry_base_delay(Duration::from_millis(5))
        .build()
        .expect("client builds")
}

fn client(emu: &Emulator) -> Client {
    client_for(emu.url(), emu.page_id(), &emu.apps().primary.token)
}

fn unpaced() -> ExportOptions {
    ExportOptions { max_calls_per_second: None, ..ExportOptions::default() }
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mh-export-{}-{}", std::process::id(), fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "no partial last line");
    text.lines().map(str::to_owned).collect()
}

fn ids_of(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("a whole JSON line")["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn export_equals_the_union_of_the_per_folder_pagers() {
    let emu = emulator(300).await;
    let bot = client(&emu);
    let options =
        ExportOptions { platforms: vec![Platform::Messenger, Platform::Instagram], page_size: 40, ..unpaced() };
    let export = bot.export_conversations(options).unwrap();
    let got: Vec<_> = export.into_stream().try_collect().await.unwrap();

    let mut expected = BTreeSet::new();
    for platform in [Platform::Messenger, Platform::Instagram] {
        for folder in Folder::ALL {
            let q = ConversationsQuery::new().folder(*folder).platform(platform).page_size(100);
            let convs: Vec<_> = bot.conversations(q).unwrap().into_stream().try_collect().await.unwrap();
            for c in convs {
                expected.insert((c.id, folder.as_str().to_owned(), platform.as_str().to_owned()));
            }
        }
    }
    let got_set: BTreeSet<_> =
        got.iter().map(|c| (c.id.clone(), c.folder.clone().unwrap(), c.platform.clone().unwrap())).collect();
    assert_eq!(got.len(), got_set.len(), "each conversation once");
    assert_eq!(got_set, expected);
    assert_eq!(got.len(), 300);
    assert!(got.iter().all(|c| c.raw.get("folder").as_ref().and_then(|v| v.as_str()) == c.folder.as_deref()));
}

#[tokio::test]
async fn a_conversation_moved_to_the_top_mid_walk_is_written_once() {
    let emu = emulator(300).await;
    let bot = client(&emu);
    let options = || ExportOptions { folders: vec![Folder::Inbox], page_size: 10, ..unpaced() };
    let all: Vec<_> = bot.export_conversations(options()).unwrap().into_stream().try_collect().await.unwrap();
    let mut export = bot.export_conversations(options()).unwrap();
    let (mut got, mut bumped) = (Vec::new(), HashSet::new());
    while let Some(c) = export.next().await.unwrap() {
        got.push(c.id.clone());
        if got.len() % 10 == 5 && got.len() < 60 {
            // A new message in a thread not reached yet: it jumps to the top
            // (behind the cursor) and every thread above its old place slides
            // down one, so the next page starts with one already written.
            let ahead = all[got.len() + 25].id.clone();
            assert!(emu.bump_conversation(&ahead, Some("again")).is_some());
            bumped.insert(ahead);
        }
    }
    assert_eq!(got.len(), got.iter().collect::<HashSet<_>>().len(), "each conversation once");
    assert!(export.stats().duplicates_dropped >= 1, "{:?}", export.stats());
    let all_ids: BTreeSet<_> = all.iter().map(|c| c.id.clone()).collect();
    let got_ids: BTreeSet<_> = got.into_iter().collect();
    assert!(got_ids.is_subset(&all_ids));
    // A thread that moved behind the cursor is the next run's (`since`) to fetch; every other one is here.
    assert_eq!(all_ids.difference(&got_ids).filter(|id| !bumped.contains(*id)).count(), 0);
}

#[tokio::test]
async fn since_stops_each_walk_early() {
    let emu = emulator(300).await;
    let bot = client(&emu);
    let inbox: Vec<_> =
        bot.conversations(ConversationsQuery::new().page_size(100)).unwrap().into_stream().try_collect().await.unwrap();
    let since = inbox[15].updated_time.unwrap();

    emu.clear_request_log();
    let full = bot.export_conversations(ExportOptions { page_size: 5, ..unpaced() }).unwrap();
    let full_stats = full.write_jsonl(tmp("full.jsonl")).await.unwrap();
    let full_calls = seen(&emu, "GET", "/conversations");

    emu.clear_request_log();
    let mut export = bot.export_conversations(ExportOptions { page_size: 5, since: Some(since), ..unpaced() }).unwrap();
    let mut got = Vec::new();
    while let Some(c) = export.next().await.unwrap() {
        assert!(c.updated_time.unwrap() >= since);
        got.push(c);
    }
    let calls = seen(&emu, "GET", "/conversations");
    assert!(got.len() >= 16 && got.len() < full_stats.conversations as usize);
    assert!(calls * 3 < full_calls, "since cut the walk short: {calls} calls vs {full_calls}");
    assert_eq!(export.stats().conversations, got.len() as u64);
}

#[tokio::test]
async fn default_pacing_never_trips_a_two_per_second_limiter() {
    let emu = emulator(600).await;
    // At most 2 conversations calls in any one second, 613 beyond.
    emu.set_conversations_pacing(2);
    let bot = client(&emu);
    let stats = bot
        .export_conversations(ExportOptions { page_size: 50, ..ExportOptions::default() })
        .unwrap()
        .write_jsonl(tmp("paced.jsonl"))
        .await
        .unwrap();
    assert!(stats.conversations >= 250, "{stats:?}");
    let calls: Vec<Value> =
        log(&emu).into_iter().filter(|r| r["path"].as_str().unwrap().ends_with("/conversations")).collect();
    assert!(calls.len() >= 8);
    assert!(calls.iter().all(|r| r["status"] == 200), "the limiter refused a call: {calls:?}");
    assert!(stats.time_waited > Duration::ZERO);
    assert_eq!(stats.calls, calls.len() as u64);
}

#[tokio::test]
async fn a_rate_limit_error_mid_walk_then_a_restart_loses_and_doubles_nothing() {
    let emu = emulator(200).await;
    let bot = client(&emu);
    let reference = tmp("reference.jsonl");
    bot.export_conversations(ExportOptions { page_size: 7, ..unpaced() })
        .unwrap()
        .write_jsonl(&reference)
        .await
        .unwrap();

    let (out, ckpt) = (tmp("out.jsonl"), tmp("out.ckpt"));
    let options = || ExportOptions { page_size: 7, checkpoint: Some(ckpt.clone()), ..unpaced() };
    // Let a few pages through, then throttle hard.
    fault(
        &emu,
        json!({"match": {"path_contains": "/conversations"}, "count": 4, "action": {"type": "delay", "ms": 1}}),
    );
    fault(
        &emu,
        json!({"match": {"path_contains": "/conversations"}, "count": 3,
               "action": {"type": "graph_error", "error": {"message": "(#4) Application request limit reached", "code": 4}}}),
    );
    let mut seen_progress = Vec::new();
    let err = bot
        .export_conversations(options())
        .unwrap()
        .write_jsonl_with_progress(&out, |s| seen_progress.push(s.conversations))
        .await
        .unwrap_err();
    assert!(!seen_progress.is_empty() && seen_progress.windows(2).all(|w| w[0] < w[1]), "{seen_progress:?}");
    assert_eq!(err.kind(), ErrorKind::RateLimit);
    let partial = lines(&out);
    assert!(!partial.is_empty());
    emu.clear_faults();
    let stats = bot.export_conversations(options()).unwrap().write_jsonl(&out).await.unwrap();
    let (got, want) = (lines(&out), lines(&reference));
    assert_eq!(ids_of(&got).len(), ids_of(&got).into_iter().collect::<HashSet<_>>().len(), "no duplicate");
    assert_eq!(got.iter().collect::<BTreeSet<_>>(), want.iter().collect::<BTreeSet<_>>());
    assert_eq!(stats.conversations as usize, want.len());

    // A finished export started again sends nothing and writes nothing.
    emu.clear_request_log();
    bot.export_conversations(options()).unwrap().write_jsonl(&out).await.unwrap();
    assert_eq!(seen(&emu, "GET", "/conversations"), 0);
    assert_eq!(lines(&out), got);
}

#[tokio::test]
async fn a_conversation_put_back_comes_again_and_the_resume_point_stays_before_it() {
    let emu = emulator(80).await;
    let bot = client(&emu);
    let options = || ExportOptions { folders: vec![Folder::Inbox], page_size: 10, ..unpaced() };
    let every: Vec<String> =
        bot.export_conversations(options()).unwrap().into_stream().map_ok(|c| c.id).try_collect().await.unwrap();
    assert!(every.len() > 30, "{}", every.len());
    // Put back mid-page (the 15th) and first of its page (the 21st), then
    // write the rest through a checkpoint: the resume point counts it unread.
    for taken in [15, 21] {
        let mut export = bot.export_conversations(options()).unwrap();
        for _ in 1..taken {
            export.next().await.unwrap().unwrap();
        }
        let last = export.next().await.unwrap().unwrap();
        assert_eq!(last.id, every[taken - 1]);
        let pages = export.stats().pages;
        export.unread(last);
        assert_eq!(export.stats().conversations as usize, taken - 1);
        let again = export.next().await.unwrap().unwrap();
        assert_eq!((again.id.as_str(), again.folder.as_deref()), (every[taken - 1].as_str(), Some("inbox")));
        export.unread(again);
        let ckpt = tmp("put-back.ckpt");
        let out = tmp("put-back.jsonl");
        let written = ExportOptions { checkpoint: Some(ckpt), ..options() };
        let mut export2 = bot.export_conversations(written).unwrap();
        // Same walk, same point: a fresh export advanced alike, then written.
        for _ in 1..taken {
            export2.next().await.unwrap().unwrap();
        }
        let c = export2.next().await.unwrap().unwrap();
        export2.unread(c);
        export2.write_jsonl(&out).await.unwrap();
        assert_eq!(ids_of(&lines(&out)), every[taken - 1..].to_vec(), "put back {taken}");
        assert_eq!(export.stats().pages, pages, "nothing fetched again");
        let rest: Vec<String> = export.into_stream().map_ok(|c| c.id).try_collect().await.unwrap();
        assert_eq!(rest, every[taken - 1..].to_vec());
    }
}

#[tokio::test]
async fn checkpoint_misuse_is_refused_and_nothing_is_overwritten() {
    let emu = emulator(60).await;
    let bot = client(&emu);
    let (out, ckpt) = (tmp("out.jsonl"), tmp("out.ckpt"));
    let options = |page_size| ExportOptions { page_size, checkpoint: Some(ckpt.clone()), ..unpaced() };
    bot.export_conversations(options(10)).unwrap().write_jsonl(&out).await.unwrap();
    let (out_before, ckpt_before) = (std::fs::read(&out).unwrap(), std::fs::read(&ckpt).unwrap());
    let token = emu.apps().primary.token.clone();
    assert!(!String::from_utf8_lossy(&ckpt_before).contains(&token), "the checkpoint never holds the token");
    let unchanged = || {
        assert_eq!(std::fs::read(&out).unwrap(), out_before);
        assert_eq!(std::fs::read(&ckpt).unwrap(), ckpt_before);
    };
    let refused = |e: messenger_handover::Error, words: &str| {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains(words), "{e}");
        assert!(!e.to_string().contains(&token));
    };

    // Other arguments.
    refused(bot.export_conversations(options(20)).unwrap().write_jsonl(&out).await.unwrap_err(), "other arguments");
    unchanged();
    // Another output.
    refused(
        bot.export_conversations(options(10)).unwrap().write_jsonl(tmp("other.jsonl")).await.unwrap_err(),
        "belongs to the output",
    );
    unchanged();
    // An output that is not the checkpoint's.
    let copy = tmp("copy.jsonl");
    std::fs::write(&copy, b"{\"id\":\"t_x\"}\n").unwrap();
    let mut cp: Value = serde_json::from_slice(&ckpt_before).unwrap();
    cp["output"] = json!(copy);
    std::fs::write(&ckpt, serde_json::to_vec(&cp).unwrap()).unwrap();
    refused(bot.export_conversations(options(10)).unwrap().write_jsonl(&copy).await.unwrap_err(), "not the file");
    assert_eq!(std::fs::read(&copy).unwrap(), b"{\"id\":\"t_x\"}\n");
    std::fs::write(&ckpt, &ckpt_before).unwrap();
    // A damaged checkpoint.
    std::fs::write(&ckpt, &ckpt_before[..ckpt_before.len() / 2]).unwrap();
    refused(bot.export_conversations(options(10)).unwrap().write_jsonl(&out).await.unwrap_err(), "not a readable");
    assert_eq!(std::fs::read(&out).unwrap(), out_before);
    // No checkpoint, but an output with data in it.
    std::fs::remove_file(&ckpt).unwrap();
    refused(bot.export_conversations(options(10)).unwrap().write_jsonl(&out).await.unwrap_err(), "not empty");
    assert_eq!(std::fs::read(&out).unwrap(), out_before);
}

#[tokio::test]
async fn bad_options_are_refused_before_sending() {
    let emu = emulator(10).await;
    let bot = client(&emu);
    for options in [
        ExportOptions { folders: vec![], ..unpaced() },
        ExportOptions { platforms: vec![], ..unpaced() },
        ExportOptions { page_size: 0, ..unpaced() },
        ExportOptions { messages: 21, ..unpaced() },
        ExportOptions { max_calls_per_second: Some(0.0), ..unpaced() },
        ExportOptions { max_calls_per_second: Some(f64::NAN), ..unpaced() },
        // A wait no clock can hold: it overflowed the pacer (a panic, an abort in Node).
        ExportOptions { max_calls_per_second: Some(1e-308), ..unpaced() },
        ExportOptions { max_calls_per_second: Some(f64::INFINITY), ..unpaced() },
        ExportOptions { checkpoint: Some(PathBuf::new()), ..unpaced() },
        ExportOptions { checkpoint: Some(PathBuf::from("a\0b")), ..unpaced() },
        ExportOptions { fields: vec!["id".into(), "x y".into()], ..unpaced() },
    ] {
        assert_eq!(bot.export_conversations(options).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    assert!(log(&emu).is_empty());
}

// ---------------------------------------------------------------- kill and resume

/// An aborted run is stopped where it next waits, which a walk whose next
/// page already landed may never do: a rerun started at once found it still
/// writing the file and the checkpoint, and was refused (at worst for good).
/// Now a run waits for the one still writing, then resumes after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_waits_for_the_run_it_replaces() {
    let emu = emulator(300).await;
    let bot = client(&emu);
    let reference = tmp("reference.jsonl");
    bot.export_conversations(unpaced()).unwrap().write_jsonl(&reference).await.unwrap();
    let want = ids_of(&lines(&reference)).into_iter().collect::<BTreeSet<_>>();
    let written = |p: &Path| std::fs::read(p).map_or(0, |t| t.iter().filter(|b| **b == b'\n').count());
    for round in 0..8 {
        let (out, ckpt) = (tmp("rerun.jsonl"), tmp("rerun.ckpt"));
        let options = || ExportOptions { page_size: 5, checkpoint: Some(ckpt.clone()), ..unpaced() };
        let first = tokio::spawn(bot.export_conversations(options()).unwrap().write_jsonl(out.clone()));
        while written(&out) < 10 * (round + 1) && !first.is_finished() {
            tokio::task::yield_now().await;
        }
        first.abort();
        bot.export_conversations(options()).unwrap().write_jsonl(&out).await.unwrap();
        let _ = first.await;
        let ids = ids_of(&lines(&out));
        assert_eq!(ids.len(), want.len(), "round {round}: no line twice");
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), want, "round {round}: none lost");
    }
}

const CHILD_ENV: &str = "MH_EXPORT_CHILD";

fn child_options(ckpt: PathBuf) -> ExportOptions {
    ExportOptions { page_size: 2, checkpoint: Some(ckpt), max_calls_per_second: Some(40.0), ..ExportOptions::default() }
}

/// The child side: one export run with a checkpoint, started by the test
/// below (never on its own: without the variable it does nothing).
#[tokio::test]
#[ignore = "run by kill_and_resume_the_hard_way as a child process"]
async fn export_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let token = std::env::var("PAGE_ACCESS_TOKEN").unwrap();
    let bot = client_for(spec["url"].as_str().unwrap(), spec["page"].as_str().unwrap(), &token);
    let ckpt = PathBuf::from(spec["checkpoint"].as_str().unwrap());
    bot.export_conversations(child_options(ckpt)).unwrap().write_jsonl(spec["out"].as_str().unwrap()).await.unwrap();
}

#[tokio::test]
async fn kill_and_resume_the_hard_way() {
    let emu = emulator(300).await;
    let bot = client(&emu);
    let reference = tmp("reference.jsonl");
    let mut unpaced_child = child_options(tmp("unused.ckpt"));
    unpaced_child.checkpoint = None;
    unpaced_child.max_calls_per_second = None;
    bot.export_conversations(unpaced_child).unwrap().write_jsonl(&reference).await.unwrap();
    let want = lines(&reference);
    assert!(want.len() > 100);

    let exe = std::env::current_exe().unwrap();
    let (mut kills, mut rounds) = (0, 0);
    let (out, ckpt) = loop {
        rounds += 1;
        assert!(rounds < 10, "could not land 20 kills");
        let (out, ckpt) = (tmp("out.jsonl"), tmp("out.ckpt"));
        let spec = json!({"url": emu.url(), "page": emu.page_id(), "out": out, "checkpoint": ckpt}).to_string();
        let finished = loop {
            let mut child = std::process::Command::new(&exe)
                .args(["--exact", "export_child", "--ignored", "--test-threads=1", "--quiet"])
                .env(CHILD_ENV, &spec)
                .env("PAGE_ACCESS_TOKEN", &emu.apps().primary.token)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            tokio::time::sleep(Duration::from_millis(fastrand::u64(20..200))).await;
            assert!(kills < 400, "no progress after {kills} kills");
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL: no destructor, no flush.
                child.wait().unwrap();
                kills += 1;
                continue;
            }
            let status = child.wait().unwrap();
            assert!(status.success(), "a child run failed: {status}");
            break true;
        };
        if finished && kills >= 20 {
            break (out, ckpt);
        }
        // Finished before 20 kills landed: start a fresh export and keep counting.
    };
    let got = lines(&out);
    let ids = ids_of(&got);
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len(), "no conversation written twice");
    assert_eq!(got.iter().collect::<BTreeSet<_>>(), want.iter().collect::<BTreeSet<_>>(), "none lost");
    assert!(ckpt.exists());
    eprintln!("kill_and_resume: {kills} kills over {rounds} export(s)");
}
