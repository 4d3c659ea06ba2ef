//! Any bytes as a webhook delivery: the signature check and the event parser
//! must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| messenger_handover::fuzzing::webhook_input(input));
