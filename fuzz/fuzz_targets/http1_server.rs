//! cargo-fuzz target `http1_server`: the body, and the properties it checks, are
//! `bodies::http1_server`, shared with the replay test (h2core/tests/fuzz_regressions.rs).
#![no_main]

#[path = "bodies.rs"]
#[allow(dead_code)] // each binary runs one of the shared bodies
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::http1_server(data));
