//! cargo-fuzz target `frame_reader`: the body, and the properties it checks, are
//! `bodies::frame_reader`, shared with the replay test (h2core/tests/fuzz_regressions.rs).
#![no_main]

#[path = "bodies.rs"]
#[allow(dead_code)] // each binary runs one of the shared bodies
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::frame_reader(data));
