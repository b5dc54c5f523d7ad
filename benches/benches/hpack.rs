//! HPACK (RFC 7541) over the hpack-test-case corpus: h2core beside published crates.
//!
//! - `hpack-decode`: every block of the `nghttp2` stories (nghttp2's encodings), a fresh decoder
//!   per story;
//! - `hpack-encode`: every header list of the `raw-data` stories, a fresh encoder per story.
//!
//! One iteration covers the whole directory; throughput counts the octets of header names and
//! values. Each implementation's output is checked once before timing (decoded octets match,
//! encoded blocks decode back with h2core); one that fails is reported and left out.
//!
//! Under `cargo test` (criterion's test mode: no `--bench` argument) only the first few stories
//! are used, so that the unoptimized build checks every path in well under a second.

use benches::{
    decode_story, encode_h2core, encode_hpack, encode_httlib, encode_loona, encode_story,
    header_bytes, load_dir, Story, IMPLS,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

/// Stories used in test mode: enough to exercise every implementation on real blocks.
const TEST_MODE_STORIES: usize = 3;

/// The stories of corpus directory `dir`: all of them when benchmarking, a few under test.
fn stories(dir: &str) -> Result<Vec<Story>, String> {
    let mut stories = load_dir(dir)?;
    if !std::env::args().any(|a| a == "--bench") {
        stories.truncate(TEST_MODE_STORIES);
    }
    Ok(stories)
}

fn decode(c: &mut Criterion) {
    let stories = match stories("nghttp2") {
        Ok(s) => s,
        Err(e) => return println!("hpack-decode: corpus not found, nothing benched ({e})"),
    };
    let expected = header_bytes(&stories);
    let mut group = c.benchmark_group("hpack-decode");
    group.throughput(Throughput::Bytes(expected));
    // `hpack` and `loona-hpack` take ~100x longer per pass than the others: flat sampling with
    // fewer samples keeps their run to seconds (linear sampling would need 5,050 passes).
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for implementation in IMPLS {
        let run = |stories: &[Story]| -> Result<u64, String> {
            stories
                .iter()
                .map(|s| decode_story(implementation, s))
                .sum()
        };
        match run(&stories) {
            Ok(n) if n == expected => {}
            Ok(n) => {
                println!(
                    "hpack-decode/{implementation}: decoded {n} octets, not {expected}; skipped"
                );
                continue;
            }
            Err(e) => {
                println!("hpack-decode/{implementation}: {e}; skipped");
                continue;
            }
        }
        group.bench_function(implementation, |b| {
            b.iter(|| run(black_box(&stories)).unwrap())
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let stories = match stories("raw-data") {
        Ok(s) => s,
        Err(e) => return println!("hpack-encode: corpus not found, nothing benched ({e})"),
    };
    let mut group = c.benchmark_group("hpack-encode");
    group.throughput(Throughput::Bytes(header_bytes(&stories)));
    for implementation in IMPLS {
        let checked = stories
            .iter()
            .try_for_each(|s| benches::check_round_trip(s, &encode_story(implementation, s)?));
        if let Err(e) = checked {
            println!("hpack-encode/{implementation}: {e}; skipped");
            continue;
        }
        // The sink only counts, so the timed work is the encoder's own.
        let run = |stories: &[Story]| {
            let mut n = 0usize;
            let mut sink = |block: &[u8]| n += block.len();
            for story in stories {
                match implementation {
                    "h2core" => encode_h2core(story, &mut sink),
                    "hpack" => encode_hpack(story, &mut sink),
                    "loona-hpack" => encode_loona(story, &mut sink),
                    "httlib-hpack" => encode_httlib(story, &mut sink),
                    _ => unreachable!("IMPLS lists {implementation}"),
                }
            }
            n
        };
        group.bench_function(implementation, |b| b.iter(|| run(black_box(&stories))));
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
