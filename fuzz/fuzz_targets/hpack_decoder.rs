//! cargo-fuzz target `hpack_decoder`: the body, and the properties it checks, are
//! `bodies::hpack_decoder`, shared with the replay test (h2core/tests/fuzz_regressions.rs).
#![no_main]

#[path = "bodies.rs"]
#[allow(dead_code)] // each binary runs one of the shared bodies
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::hpack_decoder(data));
