//! The `messenger-handover` command, written once over the core and shipped
//! three ways: `cargo install`, the Python package's console script and the
//! Node package's `bin`, each of which calls [`run`] with its argv.
//!
//! It holds no Graph logic: every URL, argument rule, error code and retry
//! lives in the core; this crate parses the command line, picks the output
//! form and maps each error kind to an exit code ([`exit::EXIT_CODES`]).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use messenger_handover::{
    Client, ConversationsQuery, ExportOptions, ExportStats, Folder, Platform, DEFAULT_EXPORT_CALLS_PER_SECOND,
    DEFAULT_FIELDS,
};
use serde_json::json;

pub mod exit;
mod output;
mod signals;
mod walk;

use exit::CliError;
use output::{emit, json_line, Mode, Table};

/// The environment variables the command reads.
pub const TOKEN_ENV: &str = messenger_handover::ACCESS_TOKEN_ENV;
pub const APP_SECRET_ENV: &str = "APP_SECRET";

const ABOUT: &str =
    "Move Messenger threads between apps and the Page Inbox, and list or export a Page's conversations.";

const FOOTER: &str = "\
Token and secret:
  The Page access token is read from PAGE_ACCESS_TOKEN, or from the file given
  by --token-file; never from the command line, which every user of the machine
  can see. APP_SECRET, when set, adds appsecret_proof to every call.

Output:
  On a terminal: a short line per call and a small table for lists.
  Piped or redirected: the same fields tab-separated, no header, no truncation,
  nothing for a successful thread-control call (as gh does; the exit code says it).
  With --json: one JSON object per line, whatever stdout is.
  Errors: always one line on stderr naming the kind, the Graph code and the fbtrace_id.
";

#[derive(Parser, Debug)]
#[command(name = "messenger-handover", version, about = ABOUT, propagate_version = true, args_override_self = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
    /// The Page's id [default: me, the Page the token belongs to]
    #[arg(long, global = true, value_name = "ID")]
    page_id: Option<String>,
    /// The Graph API version [default: the core's, e.g. v26.0]
    #[arg(long, global = true, value_name = "VERSION")]
    api_version: Option<String>,
    /// Where calls go, e.g. an emulator's http://127.0.0.1:PORT [default: https://graph.facebook.com]
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// One JSON object per line on stdout
    #[arg(long, global = true)]
    json: bool,
    /// Read the Page access token from this file instead of PAGE_ACCESS_TOKEN
    #[arg(long, global = true, value_name = "PATH")]
    token_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Which app owns the thread with a user (none when the thread is idle)
    Owner {
        /// The user's page-scoped id
        psid: String,
    },
    /// Pass the thread to another app, or to the Page Inbox or Instagram Inbox (humans)
    Pass {
        psid: String,
        /// An app id, `inbox` (the Page Inbox) or `instagram-inbox`
        #[arg(long, value_name = "APP_ID|inbox|instagram-inbox")]
        to: String,
        /// Text the receiving app gets with the handover
        #[arg(long)]
        metadata: Option<String>,
    },
    /// Take the thread (the primary receiver, or the default app under Conversation Routing)
    Take(Control),
    /// Ask the thread's owner to pass the thread to this app
    Request(Control),
    /// Release the thread (to the primary receiver, or idle under Conversation Routing)
    Release(Control),
    /// Keep control of the thread longer (Conversation Routing)
    Extend {
        psid: String,
        /// How long: 2h, 30m, 7d, or plain seconds (at most 7 days)
        #[arg(long, value_parser = parse_duration)]
        duration: Duration,
    },
    /// The apps with a role on the Page besides this one
    Receivers,
    /// Whether Conversation Routing and multi-app messaging are on for the Page
    FeatureStatus,
    /// List the Page's conversations, newest first
    Conversations(ConversationsArgs),
    /// Write the Page's conversations (every folder unless --folder) to a file
    Export(ExportArgs),
    /// Run a local Graph API emulator until Ctrl-C (prints one JSON line: url, page_id, apps)
    Emulator(EmulatorArgs),
}

#[derive(Args, Debug)]
struct Control {
    psid: String,
    /// Text the other app gets with the event
    #[arg(long)]
    metadata: Option<String>,
}

/// What each conversation carries, for `conversations` and `export`.
#[derive(Args, Debug)]
struct Shape {
    /// Messenger or Instagram conversations [default: messenger]
    #[arg(long, value_parser = platform_parser())]
    platform: Option<Platform>,
    /// The Graph fields to ask for, expansions allowed: id,snippet,participants{name}
    /// [default: the core's, every typed field of a conversation]
    #[arg(long)]
    fields: Option<String>,
    /// Also fetch each conversation's N newest messages (1 to 20), in the same call
    #[arg(long, value_name = "N")]
    messages: Option<u32>,
    /// Conversations per call, 1 to 100
    #[arg(long, value_name = "N")]
    page_size: Option<u32>,
}

#[derive(Args, Debug)]
struct ConversationsArgs {
    /// The inbox folder [default: inbox]
    #[arg(long, value_parser = folder_parser(), conflicts_with = "all_folders")]
    folder: Option<Folder>,
    /// Walk every folder in turn (each conversation listed once)
    #[arg(long)]
    all_folders: bool,
    #[command(flatten)]
    shape: Shape,
    /// Only the conversation with this user
    #[arg(long, value_name = "ID")]
    user_id: Option<String>,
    /// Only conversations with one of these tags (comma-separated)
    #[arg(long)]
    tags: Option<String>,
    /// Stop after N conversations
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Write JSON lines (.jsonl) or CSV (.csv) to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// Only this folder [default: all four]
    #[arg(long, value_parser = folder_parser())]
    folder: Option<Folder>,
    #[command(flatten)]
    shape: Shape,
    /// Where to write: FILE.jsonl (JSON lines) or FILE.csv
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Only conversations updated since: 2026-11-01, 2026-11-01T08:00:00Z, or 24h / 7d ago
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Make the export resumable (JSONL only): after Ctrl-C, a crash or an
    /// error, the same command continues where it stopped
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Calls per second to the Page's conversations edge (Graph allows about 2)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_EXPORT_CALLS_PER_SECOND)]
    max_calls_per_second: f64,
}

#[derive(Args, Debug)]
struct EmulatorArgs {
    /// The port on 127.0.0.1 [default: a free one]
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// handover (roles) or routing (Conversation Routing: default app, idle threads)
    #[arg(long, default_value = "handover")]
    mode: String,
    /// How many conversations the emulated inbox holds
    #[arg(long, value_name = "N")]
    conversations: Option<usize>,
}

fn folder_parser() -> impl TypedValueParser<Value = Folder> {
    PossibleValuesParser::new(Folder::ALL.iter().map(|f| f.as_str())).try_map(|s| s.parse::<Folder>())
}

fn platform_parser() -> impl TypedValueParser<Value = Platform> {
    PossibleValuesParser::new(Platform::ALL.iter().map(|p| p.as_str())).try_map(|s| s.parse::<Platform>())
}

/// Plain seconds, or a humane duration (2h, 30m, 7d, 1h30m). The range is the core's rule.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map(Duration::from_secs).map_err(|e| e.to_string());
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (try 2h, 30m, 7d or seconds)"))
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let ago =
        parse_duration(s).map_err(|_| "expected a date, an RFC 3339 time, or a duration ago like 24h".to_owned())?;
    chrono::Duration::from_std(ago)
        .ok()
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .ok_or_else(|| "that is too long ago".to_owned())
}

/// The command line entry point of every door (binary, Python, Node).
///
/// Parses `args` (the first item is the program name), runs the command on
/// its own tokio runtime and returns the exit code. Reads the environment
/// and stdio only; installs handlers for SIGINT/SIGTERM while a long
/// `conversations`/`export`/`emulator` run is in progress.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let env_token = std::env::var(TOKEN_ENV).unwrap_or_default();
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let mut secrets = vec![env_token];
    let work = |secrets: &mut Vec<String>| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| CliError::io("tokio runtime", e))
            .and_then(|rt| rt.block_on(execute(cli, secrets)))
    };
    // A runtime cannot block inside another: called from async code (a
    // binding's worker), run on a thread of its own.
    let result = if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| work(&mut secrets))
                .join()
                .unwrap_or_else(|_| Err(CliError::io("command thread", std::io::Error::other("panicked"))))
        })
    } else {
        work(&mut secrets)
    };
    match result {
        Ok(()) | Err(CliError::StdoutClosed) => exit::SUCCESS,
        Err(e) => {
            let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
            eprintln!("{}", e.report(&refs));
            e.exit_code()
        }
    }
}

/// clap, with the exit-code table in `--help`; a usage error is one line.
fn parse(args: &[OsString]) -> Result<Cli, i32> {
    // A token in argv is already visible to every user of the machine: say
    // so, and do not echo it back.
    let token_flag =
        args.iter().skip(1).filter_map(|a| a.to_str()).any(|a| a == "--token" || a.starts_with("--token="));
    if token_flag {
        let msg = "there is no --token option: the token is read from PAGE_ACCESS_TOKEN or --token-file PATH, \
                   never from the command line, which every user of the machine can see";
        eprintln!("{}", CliError::Usage(msg.to_owned()).report(&[]));
        return Err(exit::USAGE);
    }
    let footer = format!("{FOOTER}\n{}", exit::help_table());
    let command = Cli::command().after_help(footer);
    let matches = match command.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return Err(clap_error(&e, args)),
    };
    Cli::from_arg_matches(&matches).map_err(|e| clap_error(&e, args))
}

/// The tokens a usage error must not echo: `PAGE_ACCESS_TOKEN`'s, and the one
/// in the `--token-file` named on this command line (read again here: clap
/// refused the line before the file was read, and may quote any value of it).
fn usage_secrets(args: &[OsString]) -> Vec<String> {
    let mut secrets = vec![std::env::var(TOKEN_ENV).unwrap_or_default()];
    let mut args = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        let path = match arg.strip_prefix("--token-file") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) {
            secrets.push(text.trim().to_owned());
        }
    }
    secrets
}

fn clap_error(e: &clap::Error, args: &[OsString]) -> i32 {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            // Help and version go to stdout and succeed, as in every clap tool.
            let _ = emit(&e.render().to_string());
            exit::SUCCESS
        }
        K::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{}", e.render());
            exit::USAGE
        }
        _ => {
            let text = e.render().to_string();
            // clap's first paragraph is the message (a list of missing
            // arguments runs over several lines); usage and tips follow.
            let first: Vec<&str> = text.trim_start().lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
            let message = first.join(" ");
            let message = message.trim_start_matches("error:").trim();
            let secrets = usage_secrets(args);
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            eprintln!("{}", CliError::Usage(message.to_owned()).report(&secrets));
            exit::USAGE
        }
    }
}

/// The token from `--token-file` (trimmed) or `PAGE_ACCESS_TOKEN`.
fn read_token(global: &Global) -> Result<String, CliError> {
    let token = match &global.token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("--token-file {}", path.display()), e))?
            .trim()
            .to_owned(),
        None => std::env::var(TOKEN_ENV).unwrap_or_default().trim().to_owned(),
    };
    if token.is_empty() {
        let msg = match &global.token_file {
            Some(path) => format!("--token-file {} is empty", path.display()),
            None => format!("no access token: set {TOKEN_ENV} or pass --token-file PATH"),
        };
        return Err(CliError::Usage(msg));
    }
    Ok(token)
}

fn client(global: &Global, token: String) -> Result<Client, CliError> {
    let mut builder = Client::builder(token);
    if let Some(page) = &global.page_id {
        builder = builder.page_id(page);
    }
    if let Some(v) = &global.api_version {
        builder = builder.api_version(v);
    }
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url);
    }
    if let Some(secret) = std::env::var(APP_SECRET_ENV).ok().filter(|s| !s.trim().is_empty()) {
        builder = builder.app_secret(secret.trim());
    }
    Ok(builder.build()?)
}

async fn execute(cli: Cli, secrets: &mut Vec<String>) -> Result<(), CliError> {
    let mode = Mode::detect(cli.global.json);
    if let Command::Emulator(args) = &cli.command {
        return emulator(args).await;
    }
    let token = read_token(&cli.global)?;
    secrets.push(token.clone());
    if let Ok(secret) = std::env::var(APP_SECRET_ENV) {
        secrets.push(secret);
    }
    let client = client(&cli.global, token)?;
    let result = command(&client, cli.command, mode, secrets).await;
    client.close();
    result
}

async fn command(client: &Client, command: Command, mode: Mode, secrets: &[String]) -> Result<(), CliError> {
    match command {
        Command::Owner { psid } => {
            let owner = client.thread_owner(&psid).await?;
            let text = match (mode, &owner) {
                (Mode::Json, _) => json_line(&json!({ "psid": psid, "owner": owner })),
                (Mode::Human, Some(o)) => match o.expiration {
                    Some(t) => format!("thread {psid}: owned by app {} until {}\n", o.app_id, t.to_rfc3339()),
                    None => format!("thread {psid}: owned by app {}\n", o.app_id),
                },
                (Mode::Human, None) => format!("thread {psid}: idle, no app owns it\n"),
                (Mode::Plain, Some(o)) => {
                    format!("{}\t{}\n", o.app_id, o.expiration.map(|t| t.to_rfc3339()).unwrap_or_default())
                }
                (Mode::Plain, None) => "\n".to_owned(),
            };
            emit(&text)
        }
        Command::Pass { psid, to, metadata } => {
            let inbox = match to.as_str() {
                "inbox" => Some((Platform::Messenger, "the Page Inbox")),
                "instagram-inbox" => Some((Platform::Instagram, "the Instagram Inbox")),
                _ => None,
            };
            let (target, human) = match inbox {
                Some((platform, name)) => {
                    client.pass_thread_control_to_inbox(&psid, metadata.as_deref(), platform).await?;
                    let id = platform.inbox_app_id();
                    (id.to_owned(), format!("thread {psid}: passed to {name} (app {id})"))
                }
                None => {
                    client.pass_thread_control(&psid, &to, metadata.as_deref()).await?;
                    let human = format!("thread {psid}: passed to app {to}");
                    (to, human)
                }
            };
            done(mode, &human, json!({ "ok": true, "action": "pass", "psid": psid, "target_app_id": target }))
        }
        Command::Take(c) => {
            client.take_thread_control(&c.psid, c.metadata.as_deref()).await?;
            done(mode, &format!("thread {}: taken", c.psid), json!({ "ok": true, "action": "take", "psid": c.psid }))
        }
        Command::Request(c) => {
            client.request_thread_control(&c.psid, c.metadata.as_deref()).await?;
            let human = format!("thread {}: control requested from its owner", c.psid);
            done(mode, &human, json!({ "ok": true, "action": "request", "psid": c.psid }))
        }
        Command::Release(c) => {
            client.release_thread_control(&c.psid, c.metadata.as_deref()).await?;
            let human = format!("thread {}: released", c.psid);
            done(mode, &human, json!({ "ok": true, "action": "release", "psid": c.psid }))
        }
        Command::Extend { psid, duration } => {
            client.extend_thread_control(&psid, duration).await?;
            let human = format!("thread {psid}: control extended by {}", humantime::format_duration(duration));
            let value = json!({ "ok": true, "action": "extend", "psid": psid, "duration": duration.as_secs() });
            done(mode, &human, value)
        }
        Command::Receivers => {
            let apps = client.secondary_receivers().await?;
            let table = Table::new(&[16]);
            let mut text = String::new();
            if mode == Mode::Human {
                text.push_str(&table.row(&["APP ID", "NAME"]));
            }
            for app in &apps {
                let name = app.name.as_deref().unwrap_or_default();
                text.push_str(&match mode {
                    Mode::Json => json_line(&json!(app)),
                    Mode::Human => table.row(&[&app.id, name]),
                    Mode::Plain => format!("{}\t{}\n", app.id, output::cell(name)),
                });
            }
            emit(&text)
        }
        Command::FeatureStatus => {
            let status = client.feature_status().await?;
            let rows = [
                ("hop_v2", "Conversation Routing (Messenger)", status.hop_v2),
                ("msgr_multi_app", "several apps on Messenger", status.msgr_multi_app),
                ("ig_multi_app", "several apps on Instagram", status.ig_multi_app),
            ];
            let table = Table::new(&[34]);
            let text: String = match mode {
                Mode::Json => json_line(&json!(status)),
                Mode::Human => {
                    rows.iter().map(|(_, name, on)| table.row(&[name, if *on { "on" } else { "off" }])).collect()
                }
                Mode::Plain => rows.iter().map(|(key, _, on)| format!("{key}\t{on}\n")).collect(),
            };
            emit(&text)
        }
        Command::Conversations(args) => {
            let folders = if args.all_folders { Folder::ALL.to_vec() } else { args.folder.into_iter().collect() };
            let queries = queries(&args, &folders);
            let walk = walk::Walk { queries, limit: args.limit };
            let sink = match &args.out {
                Some(path) => walk::Sink::file(path, args.shape.columns(), secrets)?,
                None => walk::Sink::stdout(mode, secrets),
            };
            walk_and_report(client, &walk, sink, args.out.is_some() || mode != Mode::Human, mode).await
        }
        Command::Export(args) => export(client, args, mode, secrets).await,
        Command::Emulator(args) => emulator(&args).await,
    }
}

impl Shape {
    /// The fields asked for, as Graph's comma-separated list.
    fn fields(&self) -> String {
        self.fields.clone().unwrap_or_else(|| DEFAULT_FIELDS.join(","))
    }

    /// The top-level names in the answer (CSV columns): the fields, and `messages` when asked for.
    fn columns(&self) -> Vec<String> {
        let mut names = walk::field_names(&self.fields());
        if self.messages.is_some() && !names.iter().any(|n| n == "messages") {
            names.push("messages".to_owned());
        }
        names
    }
}

/// One query per folder (or one without a folder: the Graph default, inbox).
fn queries(args: &ConversationsArgs, folders: &[Folder]) -> Vec<ConversationsQuery> {
    let shape = &args.shape;
    let mut base = ConversationsQuery::new().fields([shape.fields()]);
    if let Some(n) = shape.messages {
        base = base.messages(n);
    }
    if let Some(p) = shape.platform {
        base = base.platform(p);
    }
    if let Some(u) = &args.user_id {
        base = base.user_id(u);
    }
    if let Some(t) = &args.tags {
        base = base.tags([t.as_str()]);
    }
    if let Some(n) = shape.page_size {
        base = base.page_size(n);
    }
    if folders.is_empty() {
        return vec![base];
    }
    folders.iter().map(|f| base.clone().folder(*f)).collect()
}

/// A thread-control call's result: a line on a terminal, an object with
/// `--json`, nothing in a pipe (the exit code says it).
fn done(mode: Mode, human: &str, value: serde_json::Value) -> Result<(), CliError> {
    match mode {
        Mode::Human => emit(&format!("{human}\n")),
        Mode::Json => emit(&json_line(&value)),
        Mode::Plain => Ok(()),
    }
}

async fn walk_and_report(
    client: &Client,
    walk: &walk::Walk,
    mut sink: walk::Sink,
    progress_allowed: bool,
    mode: Mode,
) -> Result<(), CliError> {
    let progress = progress_bar(progress_allowed, walk.limit);
    let outcome = walk::run(client, walk, &mut sink, &progress).await;
    progress.finish_and_clear();
    let summary = outcome?;
    if let Some(path) = sink.path() {
        let line = format!(
            "wrote {} conversations ({} pages, {} duplicates dropped) to {}",
            summary.conversations,
            summary.pages,
            summary.duplicates,
            path.display()
        );
        // The summary is the result of a run that wrote a file: stdout when
        // someone looks, stderr otherwise so a pipe gets only data.
        match mode {
            Mode::Json => emit(&json_line(&json!({
                "ok": !summary.interrupted,
                "out": path.display().to_string(),
                "conversations": summary.conversations,
                "pages": summary.pages,
                "duplicates": summary.duplicates,
                "interrupted": summary.interrupted,
            })))?,
            Mode::Human => emit(&format!("{line}\n"))?,
            Mode::Plain => eprintln!("messenger-handover: {line}"),
        }
    }
    if summary.interrupted {
        return Err(CliError::Interrupted);
    }
    Ok(())
}

/// `export`: the core's export (every folder x platform, each conversation
/// once, paced, `since`), written by the core's resumable JSONL writer with
/// `--checkpoint`, else conversation by conversation through the sink.
async fn export(client: &Client, args: ExportArgs, mode: Mode, secrets: &[String]) -> Result<(), CliError> {
    let format = walk::Format::from_path(&args.out)?;
    if args.checkpoint.is_some() && format != walk::Format::Jsonl {
        return Err(CliError::Usage("--checkpoint needs a .jsonl --out".to_owned()));
    }
    if args.since.is_some() && !args.shape.columns().iter().any(|f| f == "updated_time") {
        return Err(CliError::Usage("--since needs updated_time among --fields".to_owned()));
    }
    let defaults = ExportOptions::default();
    let options = ExportOptions {
        folders: args.folder.map_or(defaults.folders, |f| vec![f]),
        platforms: args.shape.platform.map_or(defaults.platforms, |p| vec![p]),
        fields: args.shape.fields.iter().cloned().collect(),
        messages: args.shape.messages.unwrap_or(0),
        since: args.since,
        checkpoint: args.checkpoint.clone(),
        max_calls_per_second: Some(args.max_calls_per_second),
        page_size: args.shape.page_size.unwrap_or(defaults.page_size),
    };
    let mut export = client.export_conversations(options)?;
    let progress = progress_bar(true, None);
    let mut stop = signals::Interrupt::new().map_err(|e| CliError::io("signal handler", e))?;
    let mut interrupted = false;
    let stats = if args.checkpoint.is_some() {
        // The core commits the file and the checkpoint page by page; a run
        // stopped anywhere resumes from the last commit.
        let write = export.write_jsonl(&args.out);
        tokio::pin!(write);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                biased;
                () = stop.recv() => {
                    interrupted = true;
                    break None;
                }
                stats = &mut write => break Some(stats?),
                _ = tick.tick() => {
                    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
                    progress.set_message(format!("{} written", indicatif::HumanBytes(size)));
                }
            }
        }
    } else {
        let mut sink = walk::Sink::file(&args.out, args.shape.columns(), secrets)?;
        loop {
            let next = tokio::select! {
                biased;
                () = stop.recv() => {
                    interrupted = true;
                    break;
                }
                next = export.next() => next?,
            };
            let Some(conversation) = next else { break };
            // One write per line: an interrupted file ends with a whole line.
            sink.write(std::slice::from_ref(&conversation))?;
            progress.inc(1);
        }
        sink.finish()?;
        Some(export.stats())
    };
    progress.finish_and_clear();
    report_export(&args, stats.as_ref(), mode)?;
    if interrupted {
        return Err(CliError::Interrupted);
    }
    Ok(())
}

fn report_export(args: &ExportArgs, stats: Option<&ExportStats>, mode: Mode) -> Result<(), CliError> {
    let out = args.out.display().to_string();
    let line = match stats {
        Some(s) => format!(
            "wrote {} conversations to {out} ({} calls, {} pages, {} duplicates dropped, {:.1}s waited for pacing)",
            s.conversations,
            s.calls,
            s.pages,
            s.duplicates_dropped,
            s.time_waited.as_secs_f64()
        ),
        None => format!("stopped; {out} and its checkpoint are consistent: run the same command to resume"),
    };
    match mode {
        Mode::Json => emit(&json_line(&json!({
            "out": out,
            "conversations": stats.map(|s| s.conversations),
            "calls": stats.map(|s| s.calls),
            "pages": stats.map(|s| s.pages),
            "duplicates": stats.map(|s| s.duplicates_dropped),
            "waited_seconds": stats.map(|s| s.time_waited.as_secs_f64()),
        }))),
        Mode::Human => emit(&format!("{line}\n")),
        Mode::Plain => {
            eprintln!("messenger-handover: {line}");
            Ok(())
        }
    }
}

/// A bar on stderr when stderr is a terminal and stdout is not already
/// showing the rows there.
fn progress_bar(allowed: bool, limit: Option<u64>) -> ProgressBar {
    if !allowed || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match limit {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} conversations {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} {pos} conversations {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `messenger-handover emulator`: the same start line as `graph-emulator`,
/// then serve until Ctrl-C or SIGTERM.
async fn emulator(args: &EmulatorArgs) -> Result<(), CliError> {
    use messenger_handover_emulator::{Emulator, EmulatorConfig, Mode as EmuMode};
    let mut config = EmulatorConfig { port: args.port, ..EmulatorConfig::default() };
    config.mode = args.mode.parse::<EmuMode>().map_err(|e| CliError::Usage(format!("--mode: {e}")))?;
    if let Some(n) = args.conversations {
        config.conversations = n;
    }
    let mut stop = signals::Interrupt::new().map_err(|e| CliError::io("signal handler", e))?;
    let emu = Emulator::start(config).await.map_err(|e| CliError::io(format!("emulator on port {}", args.port), e))?;
    emit(&json_line(&emu.info()))?;
    stop.recv().await;
    emu.shutdown().await;
    Ok(())
}
