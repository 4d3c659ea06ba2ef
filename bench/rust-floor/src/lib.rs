//! Shared plumbing of the Rust bench runners: arguments, the workload drivers,
//! statistics and the one JSON line every runner prints (same shape as the
//! Python and Node runners; see bench/README.md).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub type BoxFut = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type CallFn = Arc<dyn Fn(usize) -> BoxFut + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Args {
    pub workload: String,
    pub url: String,
    pub token: String,
    pub page: String,
    pub n: usize,
    pub concurrency: usize,
    pub fields: Vec<String>,
    pub page_size: u32,
    pub target_apps: Vec<String>,
    /// Untimed calls each driver makes first.
    pub warmup: usize,
}

impl Args {
    pub fn parse() -> Args {
        let mut a = Args {
            workload: String::new(),
            url: String::new(),
            token: String::new(),
            page: "me".into(),
            n: 1000,
            concurrency: 64,
            fields: vec!["id".into(), "updated_time".into(), "snippet".into()],
            page_size: 100,
            target_apps: vec!["1111111111111".into(), "2222222222222".into()],
            warmup: 0,
        };
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < argv.len() {
            let k = argv[i].as_str();
            let v = argv.get(i + 1).cloned().unwrap_or_default();
            match k {
                "--workload" => a.workload = v,
                "--url" => a.url = v.trim_end_matches('/').to_string(),
                "--token" => a.token = v,
                "--page" => a.page = v,
                "--n" => a.n = v.parse().unwrap_or(a.n),
                "--concurrency" => a.concurrency = v.parse().unwrap_or(a.concurrency),
                "--fields" => a.fields = split_fields(&v),
                "--page-size" => a.page_size = v.parse().unwrap_or(a.page_size),
                "--target-apps" => a.target_apps = v.split(',').map(str::to_string).collect(),
                "--warmup" => a.warmup = v.parse().unwrap_or(0),
                _ => {
                    eprintln!("unknown argument {k}");
                    std::process::exit(2);
                }
            }
            i += 2;
        }
        a
    }
}

/// `a,b,messages.limit(3){x,y}` -> `[a, b, messages.limit(3){x,y}]`: commas
/// inside braces belong to a field expansion.
pub fn split_fields(text: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0i32, String::new());
    for ch in text.chars() {
        match ch {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    out.push(cur);
    out.retain(|f| !f.is_empty());
    out
}

/// The PSID of call `i`: 1,000 distinct numeric ids, as every runner uses.
pub fn psid(i: usize) -> String {
    format!("{}", 7_000_000_000_000_000u64 + (i % 1000) as u64)
}

/// Peak resident set (VmHWM) of this process, in MiB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// `n` calls, `concurrency` of them in flight (workers pulling the next index).
pub async fn run_concurrent(n: usize, concurrency: usize, warmup: usize, call: CallFn) -> (f64, usize) {
    if warmup > 0 {
        Box::pin(run_concurrent(warmup, concurrency, 0, call.clone())).await;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (next, errors, call) = (next.clone(), errors.clone(), call.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                if let Err(e) = call(i).await {
                    if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("error: {e}");
                    }
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    (start.elapsed().as_secs_f64(), errors.load(Ordering::Relaxed))
}

/// `n` calls one after another; returns (seconds, errors, per-call latencies in ms).
pub async fn run_sequential(n: usize, warmup: usize, call: CallFn) -> (f64, usize, Vec<f64>) {
    for i in 0..warmup {
        let _ = call(i).await;
    }
    let mut lat = Vec::with_capacity(n);
    let mut errors = 0;
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        if let Err(e) = call(i).await {
            if errors == 0 {
                eprintln!("error: {e}");
            }
            errors += 1;
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (start.elapsed().as_secs_f64(), errors, lat)
}

/// Runs a calls workload and prints its line: one call after another with
/// latencies when `sequential`, else `a.concurrency` in flight.
pub async fn run_calls(client: &str, a: &Args, sequential: bool, call: CallFn) {
    if sequential {
        let (s, e, lat) = run_sequential(a.n, a.warmup, call).await;
        report_calls(client, a, s, e, Some(lat));
    } else {
        let (s, e) = run_concurrent(a.n, a.concurrency, a.warmup, call).await;
        report_calls(client, a, s, e, None);
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Prints the result line for a calls workload.
pub fn report_calls(client: &str, a: &Args, seconds: f64, errors: usize, lat: Option<Vec<f64>>) {
    let mut o = serde_json::json!({
        "client": client, "workload": a.workload, "n": a.n, "errors": errors,
        "seconds": seconds, "rate": a.n as f64 / seconds, "rss_mb": peak_rss_mb(),
    });
    if let Some(mut l) = lat {
        l.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
        o["p50_ms"] = percentile(&l, 50.0).into();
        o["p99_ms"] = percentile(&l, 99.0).into();
    }
    println!("{o}");
}

pub fn report_items(client: &str, a: &Args, seconds: f64, items: usize, errors: usize) {
    let o = serde_json::json!({
        "client": client, "workload": a.workload, "n": items, "errors": errors,
        "seconds": seconds, "rate": items as f64 / seconds, "rss_mb": peak_rss_mb(),
    });
    println!("{o}");
}

pub fn report_cold(client: &str, a: &Args, ms: f64, errors: usize) {
    let o = serde_json::json!({
        "client": client, "workload": a.workload, "n": 1, "errors": errors,
        "inproc_ms": ms, "rss_mb": peak_rss_mb(),
    });
    println!("{o}");
}
