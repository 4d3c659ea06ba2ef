//! Any bytes as a webhook delivery: the signature check and the event parser
//! must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let header = std::str::from_utf8(input.get(..71).unwrap_or(input)).ok();
    messenger_handover::fuzzing::webhook(input, header);
});
