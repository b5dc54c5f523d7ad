//! Interop: the tokio adapter against real peers.
//!
//! - The demo `server` and `client` examples against curl (prior knowledge, `Upgrade: h2c`,
//!   TLS with ALPN, HTTP/1.1 chunked and keep-alive), nghttp, nghttpd, h2load and python-hyper's
//!   `h2`: the tests are shared with every adapter in `h2_testkit::interop`, listed by
//!   `h2_testkit::interop_tests!`; each skips, saying so, when its peer is not installed.
//! - hyperium's `h2` (a dev-dependency, only a test peer) in-process: its server against our
//!   `Client`, its client against our `Server` (`h2_testkit::hyperium`).

use h2_testkit::interop::{ClientSpec, ServerSpec};

h2_testkit::interop_tests!(
    server: ServerSpec::new("h2-tokio", "server"),
    client: ClientSpec::new("h2-tokio", "client"),
    tls: true,
);

h2_testkit::hyperium_tests!(runtime: h2_tokio::Tokio, block_on: h2_testkit::engine::on_tokio);
