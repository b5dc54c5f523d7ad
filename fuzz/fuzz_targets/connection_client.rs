//! cargo-fuzz target `connection_client`: the body, and the properties it checks, are
//! `bodies::connection_client`, shared with the replay test (h2core/tests/fuzz_regressions.rs).
#![no_main]

#[path = "bodies.rs"]
#[allow(dead_code)] // each binary runs one of the shared bodies
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::connection_client(data));
