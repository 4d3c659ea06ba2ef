//! Replays the committed fuzz corpus (`core/fuzz/corpus/`) on stable Rust, so
//! every input that once crashed a target stays a regression test in
//! `make test` even though fuzzing itself needs nightly (`make fuzz`).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        run(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn graph_response_corpus_replays_without_panic() {
    assert!(replay("graph_response", messenger_handover::fuzzing::graph_response_input) >= 3);
}

#[test]
fn webhook_corpus_replays_without_panic() {
    assert!(replay("webhook", messenger_handover::fuzzing::webhook_input) >= 1);
}

#[test]
fn the_overflow_that_fuzzing_found_stays_fixed() {
    // A regain time of 1e300 minutes once panicked in Duration::from_secs_f64.
    let usage = br#"{"1":[{"type":"messenger","call_count":100,"estimated_time_to_regain_access":1e300}]}"#;
    let body = br#"{"error":{"message":"x","type":"OAuthException","code":80006}}"#;
    let mut input = 329u16.to_le_bytes().to_vec(); // status 100 + 329 % 500 = 429
    input.extend_from_slice(usage);
    input.push(0);
    input.extend_from_slice(body);
    messenger_handover::fuzzing::graph_response_input(&input);
}
