//! An axum `Router` with a tower-http layer, served by our `Server` over HTTP/1.1, h2c (prior
//! knowledge or `Upgrade: h2c`) and h2 over TLS (ALPN), all on one port. axum is built without
//! its server (no `tokio`, `http1` or `http2` feature): the router is only a `tower::Service`,
//! and `Server::serve_service` is the transport.
//!
//! ```sh
//! cargo run --release -p h2-tokio --example axum -- [--listen ADDR] [--tls | --cert PEM --key PEM] [--h2-only]
//! ```
//! Routes: `GET /` → `hello from axum\n`; `GET /version` → the HTTP version the request came
//! in on; `GET /add?a=A&b=B` → `{"sum":A+B}` (a `Query` extractor, a `Json` reply); `POST
//! /greet` with `{"name":"N"}` → `{"greeting":"hello, N"}`; `POST /echo` → the request body
//! streamed back as it arrives (our `Body` read by axum, axum's body written by us under flow
//! control); 404 otherwise. Every response carries `x-served-by: axum on h2-tokio`, set by
//! tower-http's `SetResponseHeaderLayer`. Ctrl-C shuts down gracefully.

use axum::extract::{Query, Request};
use axum::http::{HeaderName, HeaderValue, Version};
use axum::routing::{get, post};
use axum::{Json, Router};
use h2_demo::ServerArgs;
use h2_tokio::Server;
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

/// The header the layer sets on every response, fallback (404) included.
const SERVED_BY: (&str, &str) = ("x-served-by", "axum on h2-tokio");

/// The application: plain axum, nothing of ours. Its request body is whatever the server
/// gives (our `h2_tokio::Body` implements `http_body::Body`), its response body axum's.
fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello from axum\n" }))
        .route(
            "/version",
            get(|version: Version| async move { format!("{version:?}\n") }),
        )
        .route("/add", get(add))
        .route("/greet", post(greet))
        // Streams: axum::body::Body wraps ours, and the server wraps axum's again.
        .route("/echo", post(|req: Request| async move { req.into_body() }))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(SERVED_BY.0),
            HeaderValue::from_static(SERVED_BY.1),
        ))
}

#[derive(Deserialize)]
struct Operands {
    a: i64,
    b: i64,
}

#[derive(Serialize)]
struct Sum {
    sum: i64,
}

async fn add(Query(Operands { a, b }): Query<Operands>) -> Json<Sum> {
    Json(Sum {
        sum: a.saturating_add(b),
    })
}

#[derive(Deserialize)]
struct Greet {
    name: String,
}

#[derive(Serialize)]
struct Greeting {
    greeting: String,
}

async fn greet(Json(Greet { name }): Json<Greet>) -> Json<Greeting> {
    Json(Greeting {
        greeting: format!("hello, {name}"),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = ServerArgs::parse(std::env::args());
    if args.root.is_some() {
        eprintln!("--root is the demo server's; this example serves its router only");
        std::process::exit(2);
    }
    let mut server = Server::bind(&args.listen)
        .await?
        .config(args.config.clone());
    if args.h2_only {
        server = server.http2_only();
    }
    if let Some(pem) = args.pem()? {
        let tls = h2_tokio::tls::server_config_from_pem(&pem.cert, &pem.key)
            .map_err(std::io::Error::other)?;
        server = server.tls(tls);
    }
    let server = server.with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("shutting down gracefully");
    });
    // Tests read the port back from this line.
    println!("listening on {}", server.local_addr()?);
    server.serve_service(app()).await
}
