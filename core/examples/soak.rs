//! Soak run of the Rust client against the in-process emulator: N calls
//! (thread_owner GET, pass/take POST) with a fixed number in flight, then a
//! long paging run. Prints figures; it is not a timed test.
//!
//! ```text
//! cargo run --release -p messenger-handover --example soak -- --calls 200000 --in-flight 256
//! ```
//!
//! Options: `--calls N` (200000), `--in-flight N` (256), `--conversations N`
//! (100000), `--page-size N` (100). Exit status 1 when any call failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use messenger_handover::{Client, ConversationsQuery, Folder, Platform};
use messenger_handover_emulator::{Emulator, EmulatorConfig};

struct Args {
    calls: u64,
    in_flight: u64,
    conversations: usize,
    page_size: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { calls: 200_000, in_flight: 256, conversations: 100_000, page_size: 100 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--calls" => args.calls = value.parse().map_err(bad)?,
            "--in-flight" => args.in_flight = value.parse().map_err(bad)?,
            "--conversations" => args.conversations = value.parse().map_err(bad)?,
            "--page-size" => args.page_size = value.parse().map_err(bad)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.in_flight == 0 || args.calls == 0 {
        return Err("--calls and --in-flight must be positive".into());
    }
    Ok(args)
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Open file descriptors of this process that are sockets.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// Established TCP connections to and from `port`: (client side, server side).
fn connections(port: u16) -> (usize, usize) {
    let mut out = (0, 0);
    for file in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let port_of = |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if cols.len() < 4 || cols[3] != "01" {
                continue;
            }
            if port_of(cols[2]) == Some(port) {
                out.0 += 1;
            } else if port_of(cols[1]) == Some(port) {
                out.1 += 1;
            }
        }
    }
    out
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn change(from: u64, to: u64) -> f64 {
    if from == 0 {
        0.0
    } else {
        (to as f64 - from as f64) * 100.0 / from as f64
    }
}

#[derive(Default)]
struct Tally {
    done: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

/// `calls` calls from `in_flight` workers; each worker owns one thread (PSID)
/// and cycles GET thread_owner, POST pass to the Page Inbox, GET, POST take,
/// so every call is valid whatever the interleaving.
async fn run_calls(client: &Client, calls: u64, in_flight: u64, first_psid: u64, tally: &Arc<Tally>) {
    let next = Arc::new(AtomicU64::new(0));
    let workers = (0..in_flight).map(|w| {
        let (client, next, tally) = (client.clone(), next.clone(), tally.clone());
        tokio::spawn(async move {
            let psid = (first_psid + w).to_string();
            let mut step = 0u32;
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let result = match step % 4 {
                    0 | 2 => client.thread_owner(&psid).await.map(|_| ()),
                    1 => client.pass_thread_control_to_page_inbox(&psid, Some("soak")).await,
                    _ => client.take_thread_control(&psid, None).await,
                };
                step += 1;
                if let Err(e) = result {
                    // Keep the cycle valid after a failure: take the thread back.
                    step = 0;
                    let _ = client.take_thread_control(&psid, None).await;
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    let mut first = tally.first_errors.lock().unwrap();
                    if first.len() < 5 {
                        first.push(format!("{} {e}", e.kind()));
                    }
                }
                tally.done.fetch_add(1, Ordering::Relaxed);
            }
        })
    });
    for w in workers.collect::<Vec<_>>() {
        w.await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    let emu = Emulator::start(EmulatorConfig {
        conversations: args.conversations,
        log_requests: false,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let client = Client::builder(&emu.apps().primary.token)
        .base_url(emu.url())
        .page_id(emu.page_id())
        .build()
        .expect("client builds");
    println!("soak (rust): {} calls, {} in flight, against {}", args.calls, args.in_flight, emu.url());
    println!("sockets at start: {}", open_sockets());

    let tally = Arc::new(Tally::default());
    // Warm-up: the first tenth of the calls fills the pools and caches.
    let warmup = (args.calls / 10).max(args.in_flight);
    let started = Instant::now();
    run_calls(&client, warmup, args.in_flight, 10_000_000, &tally).await;
    // Fresh threads for the main run: every worker starts on a thread its app owns.
    let rss_warm = rss_kib();
    let peak = Arc::new(AtomicU64::new(rss_warm));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
            }
        })
    };
    run_calls(&client, args.calls.saturating_sub(warmup), args.in_flight, 20_000_000, &tally).await;
    let elapsed = started.elapsed();
    sampler.abort();
    let rss_end = rss_kib();
    let done = tally.done.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let sockets_after = open_sockets();
    let conns_after = connections(emu.port());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (sockets_settled, conns_settled) = (open_sockets(), connections(emu.port()));

    println!("calls: {done}");
    println!("errors: {errors}");
    for e in tally.first_errors.lock().unwrap().iter() {
        println!("  error: {e}");
    }
    println!("elapsed: {:.2} s", elapsed.as_secs_f64());
    println!("calls/s: {:.0}", done as f64 / elapsed.as_secs_f64());
    println!(
        "open sockets after the run: {sockets_after} (client pool + emulator side, which holds 2 fds per connection; at most 3 x {} + 4)",
        args.in_flight
    );
    println!("  established connections (client side, server side): {conns_after:?}");
    println!("open sockets 1 s later: {sockets_settled}, connections {conns_settled:?}");
    println!("rss after warm-up ({warmup} calls): {:.1} MiB", mib(rss_warm));
    println!("rss at the end: {:.1} MiB ({:+.1}%)", mib(rss_end), change(rss_warm, rss_end));
    println!("rss peak after warm-up: {:.1} MiB", mib(peak.load(Ordering::Relaxed).max(rss_end)));

    // Paging: every conversation of the Page (each folder on each platform),
    // page by page, one page prefetched.
    let rss_before_paging = rss_kib();
    let paging_started = Instant::now();
    let (mut items, mut pages, mut rss_paging_warm, mut rss_paging_peak) = (0usize, 0usize, 0u64, 0u64);
    let mut paging_error = None;
    'segments: for folder in [Folder::Inbox, Folder::Other, Folder::PageDone, Folder::Spam] {
        for platform in [Platform::Messenger, Platform::Instagram] {
            let query = ConversationsQuery::new().folder(folder).platform(platform).page_size(args.page_size);
            let mut pager = client.conversations(query).expect("query is valid");
            loop {
                match pager.next_page().await {
                    Ok(Some(page)) => {
                        items += page.items.len();
                        pages += 1;
                        if pages == 10 {
                            rss_paging_warm = rss_kib();
                        }
                        if pages % 50 == 0 {
                            rss_paging_peak = rss_paging_peak.max(rss_kib());
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        paging_error = Some(e);
                        break 'segments;
                    }
                }
            }
        }
    }
    let paging_elapsed = paging_started.elapsed();
    let rss_paging_end = rss_kib();
    let rss_paging_warm = if rss_paging_warm == 0 { rss_before_paging } else { rss_paging_warm };
    println!("paging: {items} conversations in {pages} pages, {:.2} s", paging_elapsed.as_secs_f64());
    if let Some(e) = &paging_error {
        println!("paging error: {} {e}", e.kind());
    }
    println!(
        "paging rss: before {:.1} MiB, after 10 pages {:.1} MiB, end {:.1} MiB ({:+.1}% from 10 pages), peak {:.1} MiB",
        mib(rss_before_paging),
        mib(rss_paging_warm),
        mib(rss_paging_end),
        change(rss_paging_warm, rss_paging_end),
        mib(rss_paging_peak.max(rss_paging_end)),
    );

    // Drop the client: its pooled connections close; only the listener is left.
    drop(client);
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("open sockets after the client is dropped: {}", open_sockets());
    emu.shutdown().await;
    println!("open sockets after the emulator shut down: {}", open_sockets());

    let paging_ok = paging_error.is_none() && items == args.conversations;
    let flat = change(rss_warm, rss_end).abs() <= 10.0;
    println!(
        "verdict: errors {} / rss flat within 10%: {} / paging complete: {}",
        if errors == 0 { "none" } else { "SOME" },
        if flat { "yes" } else { "NO" },
        if paging_ok { "yes" } else { "NO" }
    );
    if errors > 0 || !paging_ok {
        std::process::exit(1);
    }
}
