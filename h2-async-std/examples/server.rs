//! The demo server on async-std: the same routes and flags as every adapter's (see
//! `h2_testkit::demo`) over HTTP/1.1, h2c (prior knowledge or Upgrade) and h2 over TLS.
//!
//! ```sh
//! cargo run --release -p h2-async-std --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only]
//! ```
//! Ctrl-C shuts down gracefully.

use futures_lite::StreamExt;
use h2_testkit::demo::ServerArgs;

#[async_std::main]
async fn main() -> std::io::Result<()> {
    let ctrl_c = async {
        match async_signal::Signals::new([async_signal::Signal::Int]) {
            Ok(mut signals) => drop(signals.next().await),
            Err(_) => std::future::pending().await,
        }
    };
    let args = ServerArgs::parse(std::env::args());
    h2_testkit::demo_async::serve::<h2_async_std::AsyncStd>(args, ctrl_c).await
}
