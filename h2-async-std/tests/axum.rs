//! axum on async-std: an axum `Router` (`h2_testkit::axum::app`, the routes of h2-tokio's
//! examples/axum.rs) under tower-http's `SetResponseHeaderLayer`, served by
//! `h2_async_std::Server::serve_service` as a tower `Service`. axum is built without its server
//! and without tokio (no `tokio`, `http1` or `http2` feature): the router is plain futures,
//! polled by our connection tasks on async-std's executor. The server runs in the test process
//! on 127.0.0.1 port 0 (cleartext, and TLS with a self-signed certificate); the tests, curl's
//! and our `Client`'s, are shared with every async adapter in `h2_testkit::axum`, listed by
//! `h2_testkit::axum_tests!`.

use h2_async_std::{Server, ShutdownHandle};
use h2_testkit::axum::AxumServer;
use h2_testkit::interop::Output;
use std::net::SocketAddr;

const SERVED_BY: &str = "axum on h2-async-std";

/// `h2_testkit::axum::app` served on 127.0.0.1 port 0, over TLS (ALPN h2 and http/1.1) when
/// `tls`; shut down when dropped.
struct Running {
    addr: SocketAddr,
    tls: bool,
    stop: ShutdownHandle,
}

async fn start(tls: bool) -> Running {
    let mut server = Server::bind("127.0.0.1:0").await.expect("bind");
    if tls {
        let pem = h2_demo::self_signed().expect("certificate");
        let config =
            h2_async_std::tls::server_config_from_pem(&pem.cert, &pem.key).expect("TLS config");
        server = server.tls(config);
    }
    let addr = server.local_addr().expect("addr");
    let stop = server.shutdown_handle();
    async_std::task::spawn(server.serve_service(h2_testkit::axum::app(SERVED_BY)));
    Running { addr, tls, stop }
}

impl AxumServer for Running {
    fn served_by(&self) -> &'static str {
        SERVED_BY
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    fn report(&self, out: &Output) -> String {
        // The server is this process: its panics are the test's own output.
        out.report_alone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.shutdown();
    }
}

h2_testkit::axum_tests!(
    adapter: h2_async_std,
    runtime: h2_async_std::AsyncStd,
    test: async_std::test,
    start: start,
);
