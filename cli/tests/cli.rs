//! The built `messenger-handover` binary against the emulator over real HTTP
//! on 127.0.0.1: every subcommand, `--json` parsed, one exit code per error
//! kind, the token never printed, and Ctrl-C leaving whole lines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use messenger_handover_cli::exit::{code_for, EXIT_CODES};
use messenger_handover_emulator::{
    Emulator, EmulatorConfig, FaultAction, FaultMatch, FaultSpec, Mode, PAGE_INBOX_APP_ID, PRIMARY_APP_ID,
    SECONDARY_APP_ID,
};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_messenger-handover");
/// Pacing off in effect: the emulator has no conversations limit on by default.
const FAST: &str = "--max-calls-per-second=1000";

/// An emulator on its own runtime, so the test thread can block on the child.
struct Env {
    emu: Emulator,
    token: String,
    secret: String,
    rt: tokio::runtime::Runtime,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json_lines(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
    }
}

impl Env {
    fn start(mode: Mode, conversations: usize) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let config = EmulatorConfig { mode, conversations, log_requests: true, ..EmulatorConfig::default() };
        let emu = rt.block_on(Emulator::start(config)).unwrap();
        let token = emu.apps().primary.token.clone();
        let secret = emu.apps().primary.secret.clone();
        Env { emu, token, secret, rt }
    }

    /// The command with the token in the environment, never in argv.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("APP_SECRET")
            .env("PAGE_ACCESS_TOKEN", &self.token)
            .args(["--base-url", self.emu.url()])
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.finish(self.command(args).output().unwrap())
    }

    /// Every output is checked for the token (and the app secret).
    fn finish(&self, out: Output) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        for secret in [&self.token, &self.secret] {
            assert!(!run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()), "secret printed");
        }
        run
    }

    fn owner(&self, psid: &str) -> Value {
        let run = self.run(&["--json", "owner", psid]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json_lines().remove(0)["owner"].clone()
    }

    fn fault(&self, method: &str, path: &str, count: u32, action: FaultAction) {
        self.emu.inject_fault(FaultSpec {
            matcher: FaultMatch {
                method: Some(method.into()),
                path_contains: Some(path.into()),
                ..FaultMatch::default()
            },
            count,
            action,
        });
    }
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mh-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn thread_control_round_trip() {
    let env = Env::start(Mode::Handover, 10);
    assert_eq!(env.owner("100")["app_id"], PRIMARY_APP_ID);

    let run = env.run(&["--json", "pass", "100", "--to", SECONDARY_APP_ID, "--metadata", "to the specialists"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json_lines(),
        [json!({"ok": true, "action": "pass", "psid": "100", "target_app_id": SECONDARY_APP_ID})]
    );
    assert_eq!(env.owner("100")["app_id"], SECONDARY_APP_ID);

    // Piped without --json: a successful call prints nothing, the exit code says it.
    let run = env.run(&["take", "100", "--metadata", "back to the bot"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(env.owner("100")["app_id"], PRIMARY_APP_ID);

    let run = env.run(&["--json", "pass", "100", "--to", "inbox"]);
    assert_eq!(run.json_lines()[0]["target_app_id"], PAGE_INBOX_APP_ID);
    assert_eq!(env.owner("100")["app_id"], PAGE_INBOX_APP_ID);

    let run = env.run(&["--json", "request", "100"]);
    assert_eq!(run.json_lines(), [json!({"ok": true, "action": "request", "psid": "100"})]);

    // Not the owner any more: the Graph error, one line, its own exit code.
    let run = env.run(&["release", "100"]);
    assert_eq!(run.code, code_for("thread_control"));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("messenger-handover: thread_control: "), "{}", run.stderr);
    assert!(run.stderr.contains("code 10") && run.stderr.contains("fbtrace_id"), "{}", run.stderr);

    env.run(&["take", "100"]);
    let run = env.run(&["--json", "release", "100"]);
    assert_eq!(run.json_lines(), [json!({"ok": true, "action": "release", "psid": "100"})]);

    // Plain owner: app id and expiration, tab-separated.
    let run = env.run(&["owner", "100"]);
    assert_eq!(run.stdout, format!("{PRIMARY_APP_ID}\t\n"));

    let bodies: Vec<String> = env
        .emu
        .request_log()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert!(bodies.iter().any(|b| b.contains("to the specialists")), "metadata sent: {bodies:?}");
}

#[test]
fn shared_options_reach_the_request() {
    let env = Env::start(Mode::Handover, 10);
    let page = messenger_handover_emulator::PAGE_ID;
    let run = env.run(&["owner", "9", "--page-id", page, "--api-version", "v25.0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last = env.emu.request_log().pop().unwrap();
    assert_eq!(last.path, format!("/v25.0/{page}/thread_owner"));
    assert_eq!(last.auth, Some("header"), "the token travels in the Authorization header");

    for bad in [&["--api-version", "26"][..], &["--page-id", "a/b"], &["--base-url", "http://example.com"]] {
        let mut args = bad.to_vec();
        args.extend(["owner", "9"]);
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("messenger-handover: invalid_input: "), "{}", run.stderr);
    }
}

#[test]
fn pass_to_the_instagram_inbox_and_feature_status() {
    let env = Env::start(Mode::Routing, 10);
    env.run(&["take", "77"]);
    let run = env.run(&["--json", "pass", "77", "--to", "instagram-inbox"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json_lines()[0]["target_app_id"], messenger_handover::INSTAGRAM_INBOX_APP_ID);
    let body = env.emu.request_log().pop().and_then(|r| r.body).unwrap();
    assert_eq!(body["target_app_id"], messenger_handover::INSTAGRAM_INBOX_APP_ID);

    env.emu.set_feature_status(messenger_handover_emulator::FeatureStatus {
        hop_v2: true,
        msgr_multi_app: true,
        ig_multi_app: false,
    });
    let run = env.run(&["feature-status", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json_lines(), [json!({"hop_v2": true, "msgr_multi_app": true, "ig_multi_app": false})]);
    let run = env.run(&["feature-status"]);
    assert_eq!(run.stdout, "hop_v2\ttrue\nmsgr_multi_app\ttrue\nig_multi_app\tfalse\n");
    let last = env.emu.request_log().pop().unwrap();
    assert_eq!(last.query.get("fields").map(String::as_str), Some("messaging_feature_status"));
}

#[test]
fn extend_takes_humane_durations() {
    let env = Env::start(Mode::Routing, 10);
    assert_eq!(env.owner("300"), Value::Null, "idle under Conversation Routing");
    assert_eq!(env.run(&["take", "300"]).code, 0);
    for (given, seconds) in [("2h", 7200), ("90", 90), ("7d", 604_800), ("1h30m", 5400)] {
        let run = env.run(&["--json", "extend", "300", "--duration", given]);
        assert_eq!(run.code, 0, "{given}: {}", run.stderr);
        assert_eq!(run.json_lines()[0]["duration"], seconds, "{given}");
    }
    assert!(env.owner("300")["expiration"].is_string());

    // The core's range rule, before anything is sent.
    let sent = env.emu.request_log().len();
    for bad in ["8d", "0", "1500ms"] {
        let run = env.run(&["extend", "300", "--duration", bad]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.starts_with("messenger-handover: invalid_input: "), "{}", run.stderr);
    }
    let run = env.run(&["extend", "300", "--duration", "soon"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("messenger-handover: usage: "), "{}", run.stderr);
    assert_eq!(env.emu.request_log().len(), sent, "nothing sent for bad input");
}

#[test]
fn receivers_in_each_output_form() {
    let env = Env::start(Mode::Handover, 10);
    let run = env.run(&["receivers", "--json"]);
    let ids: Vec<Value> = run.json_lines().iter().map(|a| a["id"].clone()).collect();
    assert_eq!(ids, [json!(SECONDARY_APP_ID), json!(PAGE_INBOX_APP_ID)]);
    assert_eq!(run.json_lines()[1]["name"], "Page Inbox");

    let run = env.run(&["receivers"]);
    assert_eq!(run.stdout, format!("{SECONDARY_APP_ID}\tHelpdesk Secondary\n{PAGE_INBOX_APP_ID}\tPage Inbox\n"));
}

#[test]
fn conversations_list_limit_and_folders() {
    let env = Env::start(Mode::Handover, 150);
    let run = env.run(&["conversations", "--json", "--limit", "7", "--page-size", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let items = run.json_lines();
    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|c| c["id"].as_str().is_some_and(|id| id.starts_with("t_"))));
    assert!(items.windows(2).all(|w| w[0]["updated_time"].as_str() >= w[1]["updated_time"].as_str()), "newest first");

    let run = env.run(&["conversations", "--limit", "4", "--fields", "id,updated_time,snippet,message_count"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines.iter().all(|l| l.split('\t').count() == 6), "{lines:?}");
    assert_eq!(lines[0].split('\t').next(), items[0]["id"].as_str());

    // Every folder, each conversation once, written to a file.
    let dir = tmp("folders");
    let out = dir.join("all.jsonl");
    let run = env.run(&["conversations", "--all-folders", "--page-size", "40", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = read_jsonl(&out);
    let mut per_folder = 0;
    for folder in ["inbox", "other", "page_done", "spam"] {
        let run = env.run(&["conversations", "--json", "--folder", folder, "--page-size", "100"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        per_folder += run.json_lines().len();
        assert!(all.iter().filter(|c| c["folder"] == folder).count() == run.json_lines().len(), "{folder}");
    }
    assert_eq!(all.len(), per_folder);
    let mut ids: Vec<&str> = all.iter().filter_map(|c| c["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "no conversation twice");
    assert!(run.stderr.is_empty() || !run.stderr.contains("error"));

    // Each conversation's newest messages, inline, in the same call.
    let run = env.run(&["conversations", "--json", "--limit", "3", "--messages", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for c in run.json_lines() {
        let messages = c["messages"]["data"].as_array().unwrap();
        assert!(!messages.is_empty() && messages.len() <= 2, "{c}");
    }
    let run = env.run(&["conversations", "--messages", "21"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("messages"), "{}", run.stderr);

    let run = env.run(&["conversations", "--folder", "archive"]);
    assert_eq!(run.code, 2);
    let run = env.run(&["conversations", "--folder", "inbox", "--all-folders"]);
    assert_eq!(run.code, 2);
    let run = env.run(&["conversations", "--page-size", "101"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("page_size"), "{}", run.stderr);
}

#[test]
fn export_jsonl_csv_and_since() {
    let env = Env::start(Mode::Handover, 200);
    let dir = tmp("export");
    let jsonl = dir.join("inbox.jsonl");
    let run = env.run(&["--json", "export", "--out", jsonl.to_str().unwrap(), "--page-size", "50", FAST]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = read_jsonl(&jsonl);
    let summary = &run.json_lines()[0];
    assert_eq!(summary["conversations"], all.len());
    assert!(summary["calls"].as_u64().unwrap() >= 4, "one walk per folder at least: {summary}");
    assert!(all.iter().all(|c| c["folder"].is_string() && c["platform"] == "messenger"));

    let csv = dir.join("inbox.csv");
    let run = env.run(&["export", "--out", csv.to_str().unwrap(), "--fields", "id,snippet,participants{name}", FAST]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("id,snippet,participants,folder"));
    assert_eq!(text.lines().count(), all.len() + 1);
    assert!(run.stderr.contains("wrote"), "summary on stderr when piped: {}", run.stderr);

    // --since stops each folder at the first older conversation.
    let mut times: Vec<&str> = all.iter().filter_map(|c| c["updated_time"].as_str()).collect();
    times.sort_unstable();
    let cut = times[times.len() / 2];
    let since = chrono::DateTime::parse_from_str(cut, "%Y-%m-%dT%H:%M:%S%z").unwrap().to_rfc3339();
    let recent = dir.join("recent.jsonl");
    let run = env.run(&["export", "--out", recent.to_str().unwrap(), "--since", &since, FAST]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = times.iter().filter(|t| **t >= cut).count();
    assert_eq!(read_jsonl(&recent).len(), expected);

    let run = env.run(&["export", "--out", dir.join("x.txt").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = env.run(&["export", "--out", "/nonexistent-dir/x.jsonl"]);
    assert_eq!(run.code, code_for("io"), "{}", run.stderr);
}

/// One Graph failure per kind, injected into the emulator, gives the kind's
/// exit code and one line naming the kind, the code and the fbtrace_id.
#[test]
fn exit_code_per_error_kind() {
    let env = Env::start(Mode::Handover, 10);
    let graph = |code: i64, subcode: Option<i64>| FaultAction::GraphError {
        status: None,
        error: json!({"message": "injected", "type": "OAuthException", "code": code,
                      "error_subcode": subcode, "fbtrace_id": "TRACE123"}),
        headers: Default::default(),
    };
    let cases: Vec<(&str, u32, FaultAction)> = vec![
        ("invalid_parameter", 1, graph(100, None)),
        ("auth", 1, graph(190, Some(463))),
        ("permission", 1, graph(200, None)),
        ("thread_control", 1, graph(10, Some(2018300))),
        // Throttling is retried even for a POST: fail every attempt.
        ("rate_limit", 4, graph(613, None)),
        ("blocked", 1, graph(368, None)),
        ("server", 1, graph(1, None)),
    ];
    let mut seen = Vec::new();
    for (kind, count, action) in cases {
        env.emu.clear_faults();
        env.fault("POST", "take_thread_control", count, action);
        let run = env.run(&["take", "42"]);
        assert_eq!(run.code, code_for(kind), "{kind}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.starts_with(&format!("messenger-handover: {kind}: injected (code ")), "{}", run.stderr);
        assert!(run.stderr.contains("fbtrace_id TRACE123"), "{}", run.stderr);
        seen.push(run.code);
    }

    env.emu.clear_faults();
    env.fault("POST", "take_thread_control", 1, FaultAction::Reset);
    let run = env.run(&["take", "42"]);
    assert_eq!(run.code, code_for("transport"), "{}", run.stderr);
    assert!(run.stderr.starts_with("messenger-handover: transport: "), "{}", run.stderr);
    seen.push(run.code);

    env.fault(
        "POST",
        "take_thread_control",
        1,
        FaultAction::Malformed {
            status: 200,
            body: "<html>oops</html>".into(),
            content_type: Some("text/html".into()),
        },
    );
    let run = env.run(&["take", "42"]);
    assert_eq!(run.code, code_for("protocol"), "{}", run.stderr);
    assert!(run.stderr.starts_with("messenger-handover: protocol: "), "{}", run.stderr);
    seen.push(run.code);

    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 9, "one code per Graph-side kind");

    // Usage: refused before anything is sent.
    let sent = env.emu.request_log().len();
    let run = env.run(&["owner", "1/2"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("messenger-handover: invalid_input: "), "{}", run.stderr);
    let run = env.run(&["pass", "42", "--to", "someone"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = env.run(&["owner"]);
    assert_eq!((run.code, run.stderr.lines().count()), (2, 1), "{}", run.stderr);
    let run = env.finish(env.command(&["owner", "42"]).env_remove("PAGE_ACCESS_TOKEN").output().unwrap());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("PAGE_ACCESS_TOKEN"), "{}", run.stderr);
    assert_eq!(env.emu.request_log().len(), sent);
}

#[test]
fn token_comes_from_env_or_file_and_is_never_printed() {
    let env = Env::start(Mode::Handover, 10);
    let dir = tmp("token");
    let file = dir.join("token");
    std::fs::write(&file, format!("{}\n", env.token)).unwrap();
    let out = env
        .command(&["--json", "--token-file", file.to_str().unwrap(), "owner", "7"])
        .env("PAGE_ACCESS_TOKEN", "EAAGwrong-token-from-env")
        .output()
        .unwrap();
    let run = env.finish(out);
    assert_eq!(run.code, 0, "the file wins over the environment: {}", run.stderr);

    // A wrong token: the auth error from the emulator names neither token.
    let out = env.command(&["owner", "7"]).env("PAGE_ACCESS_TOKEN", "EAAGwrong-token-from-env").output().unwrap();
    let run = env.finish(out);
    assert_eq!(run.code, code_for("auth"), "{}", run.stderr);
    assert!(!run.stderr.contains("EAAGwrong-token-from-env"), "{}", run.stderr);

    // A server that echoes the token back in its error message.
    env.fault(
        "GET",
        "thread_owner",
        1,
        FaultAction::GraphError {
            status: Some(400),
            error: json!({"message": format!("bad token {}", env.token), "code": 100, "fbtrace_id": "T"}),
            headers: Default::default(),
        },
    );
    let run = env.run(&["owner", "7"]);
    assert_eq!(run.code, code_for("invalid_parameter"), "{}", run.stderr);

    // With APP_SECRET the proof is sent and works; the secret is never printed.
    let out = env.command(&["--json", "owner", "7"]).env("APP_SECRET", &env.secret).output().unwrap();
    assert_eq!(env.finish(out).code, 0);

    // No --token flag: a clear usage error that does not echo the value.
    let out = env.command(&["--token", "EAAGvisible-in-ps", "owner", "7"]).output().unwrap();
    let run = env.finish(out);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("PAGE_ACCESS_TOKEN") && !run.stderr.contains("EAAGvisible-in-ps"), "{}", run.stderr);

    let run = env.run(&["--token-file", dir.join("missing").to_str().unwrap(), "owner", "7"]);
    assert_eq!(run.code, code_for("io"), "{}", run.stderr);

    // A usage error quotes the value it refuses: not when that value is the
    // token of the --token-file on the same line (clap refuses the line
    // before the file is read).
    let file = dir.join("token-for-usage");
    std::fs::write(&file, "EAAGtoken-from-a-file\n").unwrap();
    for flag in
        [vec!["--token-file".to_owned(), file.display().to_string()], vec![format!("--token-file={}", file.display())]]
    {
        let args = [
            &flag.iter().map(String::as_str).collect::<Vec<_>>()[..],
            &["conversations", "--folder", "EAAGtoken-from-a-file"],
        ]
        .concat();
        let out = env.command(&args).env_remove("PAGE_ACCESS_TOKEN").output().unwrap();
        let run = env.finish(out);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("--folder") && !run.stderr.contains("EAAGtoken-from-a-file"), "{}", run.stderr);
    }
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "whole lines only");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("partial line {l:?}: {e}"))).collect()
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the command did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigint_during_a_long_run_leaves_whole_lines() {
    let env = Env::start(Mode::Handover, 3000);
    // Slow pages: the run is still going when the signal comes.
    env.fault("GET", "conversations", 100_000, FaultAction::Delay { ms: 40 });
    let dir = tmp("sigint");
    for (name, args) in [
        ("conversations.jsonl", &["conversations", "--all-folders", "--page-size", "7"][..]),
        ("export.jsonl", &["export", "--page-size", "7", "--messages", "1", FAST]),
        ("export.csv", &["export", "--page-size", "7", FAST]),
    ] {
        let out = dir.join(name);
        let mut child = env
            .command(args)
            .args(["--out", out.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // What `ps` shows: no token in the arguments.
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&cmdline).contains(&env.token));

        let start = Instant::now();
        while std::fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0) < 20 {
            assert!(start.elapsed() < Duration::from_secs(60), "{name}: no output");
            std::thread::sleep(Duration::from_millis(10));
        }
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        let status = wait_with_timeout(&mut child, Duration::from_secs(60));
        let run = env.finish(child.wait_with_output().unwrap());
        assert_eq!(status.code(), Some(130), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(!text.contains(&env.token), "{name}: the token reached the file");
        let count = if name.ends_with(".csv") {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert!(rows.iter().all(|r| r.len() == reader.headers().unwrap().len()), "{name}: whole rows");
            assert!(text.ends_with('\n'));
            rows.len()
        } else {
            read_jsonl(&out).len()
        };
        assert!((20..3000).contains(&count), "{name}: {count}");
        assert!(run.stderr.contains(&format!("wrote {count} conversations")), "{name}: {}", run.stderr);
    }
}

/// Ctrl-C during `export --checkpoint`, then the same command again: the
/// file ends as an uninterrupted export's, each conversation once.
#[test]
fn export_checkpoint_resumes_after_sigint() {
    let env = Env::start(Mode::Handover, 600);
    let dir = tmp("checkpoint");
    let (out, cp, whole) = (dir.join("inbox.jsonl"), dir.join("inbox.ckpt"), dir.join("whole.jsonl"));
    let args = ["export", "--page-size", "10", "--messages", "1", FAST];
    let run = env.run(&[&args[..], &["--out", whole.to_str().unwrap()]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = read_jsonl(&whole);

    env.fault("GET", "conversations", 100_000, FaultAction::Delay { ms: 40 });
    let resumable = [&args[..], &["--out", out.to_str().unwrap(), "--checkpoint", cp.to_str().unwrap()]].concat();
    let mut child = env.command(&resumable).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while std::fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0) < 30 {
        assert!(start.elapsed() < Duration::from_secs(60), "no output");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let run = env.finish(child.wait_with_output().unwrap());
    assert_eq!(status.code(), Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("resume"), "{}", run.stderr);
    assert!(read_jsonl(&out).len() < expected.len());

    env.emu.clear_faults();
    let run = env.run(&resumable);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(&env.token), "the token reached the file");
    let ids = |list: &[Value]| {
        let mut ids: Vec<String> = list.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        ids.sort_unstable();
        ids
    };
    let got = read_jsonl(&out);
    assert_eq!(ids(&got), ids(&expected), "each conversation once, none lost");

    // A checkpoint from other arguments is refused; CSV cannot be resumed.
    let other = [&resumable[..], &["--folder", "inbox"]].concat();
    assert_ne!(env.run(&other).code, 0);
    let run = env.run(&["export", "--out", dir.join("x.csv").to_str().unwrap(), "--checkpoint", cp.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn emulator_subcommand_serves_until_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["emulator", "--mode", "routing", "--conversations", "20"])
        .env_remove("PAGE_ACCESS_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(info["page_id"], messenger_handover_emulator::PAGE_ID);
    let token = info["apps"]["primary"]["token"].as_str().unwrap();

    let out = Command::new(BIN)
        .args(["--json", "--base-url", url, "owner", "55"])
        .env("PAGE_ACCESS_TOKEN", token)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), json!({"psid": "55", "owner": null}));

    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    assert_eq!(wait_with_timeout(&mut child, Duration::from_secs(30)).code(), Some(0));

    let bad = Command::new(BIN).args(["emulator", "--mode", "nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn help_version_and_the_library_entry() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("messenger-handover {}\n", env!("CARGO_PKG_VERSION")));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for row in EXIT_CODES {
        assert!(help.contains(&format!("{:>3}  ", row.code)), "exit code {} documented", row.code);
    }
    assert!(help.contains("PAGE_ACCESS_TOKEN") && help.contains("--json"));

    // `run` is what the Python and Node doors call.
    assert_eq!(messenger_handover_cli::run(["messenger-handover", "--version"]), 0);
    assert_eq!(messenger_handover_cli::run(["messenger-handover", "owner"]), 2);
    assert_eq!(messenger_handover_cli::run(["messenger-handover", "no-such-command"]), 2);

    // From inside a tokio runtime (a binding's async context) too.
    let env = Env::start(Mode::Handover, 10);
    let file = tmp("in-runtime").join("token");
    std::fs::write(&file, &env.token).unwrap();
    let args = ["mh", "--base-url", env.emu.url(), "--token-file", file.to_str().unwrap(), "take", "5"];
    let code = env.rt.block_on(async { messenger_handover_cli::run(args) });
    assert_eq!(code, 0);
}
