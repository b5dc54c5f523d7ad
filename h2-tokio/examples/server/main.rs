//! The demo server: the same routes over HTTP/1.1, h2c (prior knowledge or Upgrade) and h2 over
//! TLS.
//!
//! ```sh
//! cargo run --release -p h2-tokio --example server -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--max-concurrent-streams N]
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; `POST|PUT /echo` → the body streamed
//! back; `GET /stream?n=K&interval_ms=T` → headers at once, then K chunks T ms apart; `GET /push`
//! → 200 and a push of `/pushed.css` when the client allows; `GET /trailers` → a body then
//! trailers; 404 otherwise (`h2_testkit::demo` has them as data, `routes.rs` in tokio's bodies).
//! Ctrl-C shuts down gracefully.

mod routes;

use h2_testkit::demo::ServerArgs;
use h2_tokio::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse(std::env::args());
    let mut server = Server::bind(&args.listen)
        .await?
        .config(args.config.clone());
    if let Some(pem) = args.pem()? {
        let config = h2_tokio::tls::server_config_from_pem(&pem.cert, &pem.key)
            .map_err(std::io::Error::other)?;
        server = server.tls(config);
    }
    let server = server.with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down gracefully");
    });
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    server.serve(routes::route).await
}
