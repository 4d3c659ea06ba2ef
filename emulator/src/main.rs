//! `graph-emulator`: runs the emulator and prints one JSON line describing it.

use messenger_handover_emulator::{Emulator, EmulatorConfig, Mode};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "graph-emulator: a local Graph API emulator for Messenger thread control

Usage: graph-emulator [--port N] [--conversations N] [--mode handover|routing]
                      [--rate-limit MAX/WINDOW_SECS] [--conversations-per-second N]
                      [--no-default-app] [--log-capacity N] [--header-timeout-ms N]

Prints one JSON line {\"url\", \"page_id\", \"apps\": {...}} on stdout and serves
until interrupted. Port 0 or none: a free port.";

fn parse_args(args: &[String]) -> Result<Option<EmulatorConfig>, String> {
    let mut cfg = EmulatorConfig::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if name == "--help" || name == "-h" {
            return Ok(None);
        }
        let mut value = || inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"));
        match name {
            "--port" => cfg.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--conversations" => cfg.conversations = value()?.parse().map_err(|e| format!("--conversations: {e}"))?,
            "--mode" => cfg.mode = value()?.parse::<Mode>()?,
            "--rate-limit" => {
                let v = value()?;
                let (max, window) = v.split_once('/').ok_or("--rate-limit expects MAX/WINDOW_SECS")?;
                cfg.rate_limit.enabled = true;
                cfg.rate_limit.max_calls = max.parse().map_err(|e| format!("--rate-limit max: {e}"))?;
                cfg.rate_limit.window_secs = window.parse().map_err(|e| format!("--rate-limit window: {e}"))?;
            }
            "--quiet" => cfg.log_requests = false,
            "--no-default-app" => cfg.default_app = None,
            "--conversations-per-second" => {
                cfg.conversations_per_second =
                    value()?.parse().map_err(|e| format!("--conversations-per-second: {e}"))?
            }
            "--log-capacity" => cfg.log_capacity = value()?.parse().map_err(|e| format!("--log-capacity: {e}"))?,
            "--header-timeout-ms" => {
                cfg.header_read_timeout_ms = value()?.parse().map_err(|e| format!("--header-timeout-ms: {e}"))?
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Some(cfg))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("graph-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let emu = match Emulator::start(cfg).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("graph-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", emu.info()).and_then(|_| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    wait_for_signal().await;
    emu.shutdown().await;
    ExitCode::SUCCESS
}
