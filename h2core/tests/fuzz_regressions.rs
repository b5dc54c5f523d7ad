//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) must keep surviving. The connection
//! targets' body is shared with the fuzzer (`fuzz/fuzz_targets/connection_common.rs`), so an
//! input replays exactly as it was found: put a crash input in
//! `fuzz/regressions/connection_server/` (or `connection_client/`), fix the core, and this test
//! keeps it fixed. Hand-made edge cases follow.
//!
//! No fuzz run has found a crash so far (5 targets, 60 s each, twice: about 8.6 million
//! executions).

#[path = "../../fuzz/fuzz_targets/connection_common.rs"]
// The fuzz body picks its starting instant; the core still only receives time as an argument.
#[allow(clippy::disallowed_methods, dead_code)]
mod common;

use h2core::Role;
use std::path::Path;

fn replay_dir(role: Role, dir: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let input = std::fs::read(entry.path()).expect("readable regression input");
        common::run(role, &input);
        n += 1;
    }
    n
}

#[test]
fn saved_fuzz_inputs_replay_without_panic() {
    let n = replay_dir(Role::Server, "connection_server")
        + replay_dir(Role::Client, "connection_client");
    println!("{n} saved inputs replayed");
}

#[test]
fn edge_inputs_replay_without_panic() {
    let preface = h2core::preface::PREFACE;
    let mut cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![1],
        vec![0xff; 64],
        [&[0u8][..], preface].concat(),
        // Past the preface: an oversized frame header, then a HEADERS that depends on itself.
        [&[1u8][..], &[0xff, 0xff, 0xff, 0x0, 0x0, 0, 0, 0, 1]].concat(),
        [
            &[1u8][..],
            &[0, 0, 5, 0x1, 0x24, 0, 0, 0, 1, 0, 0, 0, 1, 16],
        ]
        .concat(),
        // CONTINUATION and WINDOW_UPDATE of 2^31-1 on stream 0, time ticks between (0 bytes).
        [
            &[3u8][..],
            &[
                0, 0, 0, 0x9, 0x4, 0, 0, 0, 0, 0, 0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff,
                0xff,
            ],
        ]
        .concat(),
    ];
    // Every mode byte (chunk size, preface or not, output taken or not) on a PING flood.
    for mode in [0u8, 1, 0x81, 0xff] {
        let mut input = vec![mode];
        for _ in 0..2000 {
            input.extend_from_slice(&[0, 0, 8, 0x6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        }
        cases.push(input);
    }
    for input in &cases {
        common::run(Role::Server, input);
        common::run(Role::Client, input);
    }
}
