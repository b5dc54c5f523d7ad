//! The axum example (examples/axum.rs): an axum `Router` under tower-http's
//! `SetResponseHeaderLayer`, served by our `Server` as a tower `Service`. The compiled example
//! runs as a child process on 127.0.0.1 port 0 (port read from its first line), and curl
//! (HTTP/1.1, h2c by prior knowledge and by `Upgrade: h2c`, h2 and HTTP/1.1 over TLS by ALPN)
//! and our `Client` (h2c, `Upgrade: h2c`, TLS) check status, body and the layer's header: the
//! tests are shared with every async adapter in `h2_testkit::axum`, listed by
//! `h2_testkit::axum_tests!`. Every process is killed when its test ends.

use h2_testkit::axum::ExampleServer;
use h2_testkit::interop::ServerSpec;

const AXUM: ServerSpec = ServerSpec::new("h2-tokio", "axum");

/// The example, over TLS when `tls`; killed when dropped.
async fn start(tls: bool) -> ExampleServer {
    ExampleServer::start(&AXUM, "axum on h2-tokio", tls)
}

h2_testkit::axum_tests!(
    adapter: h2_tokio,
    runtime: h2_tokio::Tokio,
    test: tokio::test(flavor = "multi_thread", worker_threads = 2),
    start: start,
);
