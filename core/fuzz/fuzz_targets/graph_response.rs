//! Any bytes as a Graph answer: status, usage headers and body must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| messenger_handover::fuzzing::graph_response_input(input));
