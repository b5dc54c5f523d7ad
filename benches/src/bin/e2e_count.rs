//! Fixed-iteration end to end, for instruction counts (`valgrind --tool=callgrind`): N
//! request/response pairs (small body) through `benches::pair` with 1 and with 100 streams in
//! flight.
//!
//! ```sh
//! cargo build --release -p benches --bin e2e_count
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out ./target/release/e2e_count [N] [c1|c100|both]
//! ```

use benches::pair::{Exchange, Pair};
use bytes::Bytes;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let which = args.next().unwrap_or_else(|| "both".to_owned());
    let exchange = Exchange::new(Bytes::from_static(b"hello\n"));
    for concurrency in [1, 100] {
        if which != "both" && which != format!("c{concurrency}") {
            continue;
        }
        let now = Instant::now();
        let mut pair = Pair::new(now);
        pair.handshake(now);
        let read = exchange.run(&mut pair, n, concurrency, now);
        assert_eq!(read, 6 * n as u64);
    }
}
