//! This project's Rust core on the same workloads (built with `--features core`).
//! Sits between the raw-reqwest floor and the bindings: the gap to the floor is
//! the core's cost, the gap from here to Python/Node is the binding's.

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use messenger_handover::{Client, Conversation, ConversationsQuery, ExportOptions, Folder};
use messenger_handover_bench::*;

const CLIENT: &str = "rust-core (messenger-handover)";

#[tokio::main]
async fn main() {
    let a = Args::parse();
    let t0 = Instant::now();
    let mut builder = Client::builder(a.token.clone()).base_url(a.url.clone()).page_id(a.page.clone());
    if a.workload == "batch" {
        // At the per-PSID row's concurrency: 64 connections (else 100 batch requests at once).
        builder = builder.max_connections(a.concurrency);
    }
    let client = Arc::new(builder.build().expect("client"));
    match a.workload.as_str() {
        "cold" => {
            let r = client.thread_owner(&psid(0)).await;
            report_cold(CLIENT, &a, t0.elapsed().as_secs_f64() * 1e3, r.is_err() as usize);
        }
        "thread_owner_conc" | "thread_owner_seq" => {
            let c = client.clone();
            let call: CallFn = Arc::new(move |i| {
                let c = c.clone();
                Box::pin(async move {
                    match c.thread_owner(&psid(i)).await {
                        Ok(Some(_)) => Ok(()),
                        Ok(None) => Err("idle thread".into()),
                        Err(e) => Err(e.to_string()),
                    }
                })
            });
            run_calls(CLIENT, &a, a.workload == "thread_owner_seq", call).await;
        }
        "pass_conc" => {
            let (c, apps) = (client.clone(), Arc::new(a.target_apps.clone()));
            let call: CallFn = Arc::new(move |i| {
                let (c, apps) = (c.clone(), apps.clone());
                Box::pin(async move {
                    c.pass_thread_control(&psid(i), &apps[i % apps.len()], Some("bench"))
                        .await
                        .map_err(|e| e.to_string())
                })
            });
            run_calls(CLIENT, &a, false, call).await;
        }
        "paging" => {
            let start = Instant::now();
            let q = ConversationsQuery::new().fields(a.fields.clone()).page_size(a.page_size);
            let (items, errors) = count_ids(client.conversations(q).expect("query").into_stream()).await;
            report_items(CLIENT, &a, start.elapsed().as_secs_f64(), items, errors);
        }
        "export" => {
            // One folder (bench-server has one list), 3 messages each, pacing off.
            let options = ExportOptions {
                folders: vec![Folder::Inbox],
                messages: 3,
                max_calls_per_second: None,
                page_size: a.page_size,
                ..ExportOptions::default()
            };
            let start = Instant::now();
            let (items, errors) = count_ids(client.export_conversations(options).expect("export").into_stream()).await;
            report_items(CLIENT, &a, start.elapsed().as_secs_f64(), items, errors);
        }
        "batch" => {
            let psids = |n: usize| (0..n).map(psid).collect::<Vec<_>>();
            if a.warmup > 0 {
                let _ = client.thread_owners(psids(a.warmup)).await;
            }
            let all = psids(a.n);
            let start = Instant::now();
            let results = client.thread_owners(all).await;
            let seconds = start.elapsed().as_secs_f64();
            let errors = match results {
                Ok(list) if list.len() == a.n => list.iter().filter(|r| !matches!(r, Ok(Some(_)))).count(),
                Ok(_) => a.n,
                Err(e) => {
                    eprintln!("error: {e}");
                    a.n
                }
            };
            report_calls(CLIENT, &a, seconds, errors, None);
        }
        w => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
}

/// Walks a stream of conversations reading each id: (items seen, errors).
async fn count_ids<E>(stream: impl futures_util::Stream<Item = Result<Conversation, E>>) -> (usize, usize) {
    let (mut items, mut errors) = (0usize, 0usize);
    futures_util::pin_mut!(stream);
    while let Some(c) = stream.next().await {
        match c {
            Ok(c) if !c.id.is_empty() => items += 1,
            _ => errors += 1,
        }
    }
    (items, errors)
}
