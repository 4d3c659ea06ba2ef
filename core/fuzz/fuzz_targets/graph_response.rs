//! Any bytes as a Graph answer: status, usage headers and body must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // First two bytes pick the status; the rest splits at the first NUL into
    // a usage header value and the body.
    if input.len() < 2 {
        return;
    }
    let status = 100 + u16::from_le_bytes([input[0], input[1]]) % 500;
    let rest = &input[2..];
    let (header, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let headers: [(&str, &[u8]); 4] = [
        ("x-app-usage", header),
        ("x-page-usage", header),
        ("x-business-use-case-usage", header),
        ("retry-after", header),
    ];
    messenger_handover::fuzzing::graph_response(status, &headers, body);
});
