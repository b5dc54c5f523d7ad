//! In-memory end to end: request/response pairs over an h2core client and server wired back to
//! back (no I/O, see `benches::pair`), beside hyperium's `h2` client and server over
//! `tokio::io::duplex` on a current-thread runtime doing the same work (`benches::h2peer`).
//!
//! Groups `e2e-{small,16k}-c{1,100}`: a 6-byte or a 16 KiB body, 1 or 100 streams in flight.
//! One iteration is [`REQUESTS`] pairs on a connection set up once, outside the timed loop;
//! throughput counts requests. Each implementation's output (body bytes read) is checked once
//! before timing.
//!
//! Under `cargo test` (criterion's test mode: no `--bench` argument) an iteration is
//! [`TEST_MODE_REQUESTS`] pairs, so the unoptimized build checks every path quickly.

use benches::h2peer::H2Pair;
use benches::pair::{Exchange, Pair};
use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::time::Instant;

/// Request/response pairs per iteration when benchmarking.
const REQUESTS: usize = 1000;
/// Request/response pairs per iteration under `cargo test`.
const TEST_MODE_REQUESTS: usize = 100;

fn e2e(c: &mut Criterion) {
    let n = if std::env::args().any(|a| a == "--bench") {
        REQUESTS
    } else {
        TEST_MODE_REQUESTS
    };
    for (size_name, size) in [("small", 6), ("16k", 16 * 1024)] {
        let body = Bytes::from(vec![b'x'; size]);
        for concurrency in [1, 100] {
            let expected = (n * size) as u64;
            let mut group = c.benchmark_group(format!("e2e-{size_name}-c{concurrency}"));
            group.throughput(Throughput::Elements(n as u64));
            // An iteration is milliseconds long: flat sampling, fewer samples.
            group.sampling_mode(SamplingMode::Flat).sample_size(20);

            let exchange = Exchange::new(body.clone());
            let mut pair = Pair::new(Instant::now());
            pair.handshake(Instant::now());
            assert_eq!(
                exchange.run(&mut pair, n, concurrency, Instant::now()),
                expected
            );
            group.bench_function("h2core", |b| {
                b.iter(|| {
                    let now = Instant::now();
                    black_box(exchange.run(&mut pair, n, concurrency, now))
                })
            });

            let mut h2 = H2Pair::new(body.clone());
            assert_eq!(h2.run(n, concurrency), expected);
            group.bench_function("h2", |b| b.iter(|| black_box(h2.run(n, concurrency))));
            group.finish();
        }
    }
}

criterion_group!(benches, e2e);
criterion_main!(benches);
