//! A service-mesh sidecar: HTTP/1.1, h2c by prior knowledge and h2c by `Upgrade` on one port,
//! forwarded to one upstream over a few multiplexed h2c connections (or a keep-alive HTTP/1.1
//! pool), bodies streaming both ways.
//!
//! ```sh
//! cargo run --release -p h2-tokio --example mesh-proxy -- --listen ADDR --upstream ADDR \
//!     [--upstream-protocol h2c|http1] [--max-concurrent-streams N] [--timeout-secs S]
//! ```
//! `GET /__proxy/stats` on the listening port answers JSON: `requests`, `upstream_connections`
//! (opened so far), `http1_header_bytes_in` (request heads received over HTTP/1.1),
//! `h2c_header_bytes_out` (HEADERS/CONTINUATION payload sent upstream), and more. Ctrl-C shuts
//! down gracefully.

mod proxy;

use h2_tokio::Server;
use proxy::{Protocol, Proxy};
use std::net::SocketAddr;
use std::time::Duration;

fn usage(problem: &str) -> ! {
    eprintln!("{problem}");
    eprintln!(
        "usage: mesh-proxy --listen ADDR --upstream ADDR [--upstream-protocol h2c|http1] \
         [--max-concurrent-streams N] [--timeout-secs S]"
    );
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:8081".to_string();
    let mut upstream: Option<SocketAddr> = None;
    let mut protocol = Protocol::H2c;
    let mut timeout = Duration::from_secs(60);
    let mut config = h2core::Config::server();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--listen" => listen = value(),
            "--upstream" => {
                upstream = Some(value().parse().unwrap_or_else(|e| usage(&format!("{e}"))))
            }
            "--upstream-protocol" => {
                protocol = value().parse().unwrap_or_else(|e: String| usage(&e))
            }
            "--max-concurrent-streams" => {
                config.settings.max_concurrent_streams =
                    Some(value().parse().unwrap_or_else(|e| usage(&format!("{e}"))));
            }
            "--timeout-secs" => {
                timeout =
                    Duration::from_secs(value().parse().unwrap_or_else(|e| usage(&format!("{e}"))));
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let upstream = upstream.unwrap_or_else(|| usage("--upstream ADDR is required"));
    let proxy = Proxy::new(upstream, protocol, timeout)
        .await
        .map_err(std::io::Error::other)?;
    let server = Server::bind(&listen)
        .await?
        .config(config)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down gracefully");
        });
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    server.serve(move |req| proxy.clone().handle(req)).await
}
