//! The demo server: the same routes over HTTP/1.1, h2c (prior knowledge or Upgrade) and h2 over
//! TLS.
//!
//! ```sh
//! cargo run --release -p h2-tokio --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N] [--h2-only]
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; `POST|PUT /echo` → the body streamed
//! back; `GET /stream?n=K&interval_ms=T` → headers at once, then K chunks T ms apart; `GET /push`
//! → 200 and a push of `/pushed.css` when the client allows; `GET /trailers` → a body then
//! trailers; 404 otherwise (`h2_testkit::demo` has them as data, `demo_async` on the engine).
//! Ctrl-C shuts down gracefully.

use h2_testkit::demo::ServerArgs;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    h2_testkit::demo_async::serve::<h2_tokio::Tokio>(ServerArgs::parse(std::env::args()), ctrl_c)
        .await
}
