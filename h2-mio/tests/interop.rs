//! Interop: the mio adapter's demo server and client against real peers (curl with prior
//! knowledge, `Upgrade: h2c`, TLS with ALPN and HTTP/1.1, nghttp, nghttpd, h2load and
//! python-hyper's `h2`), with the tests shared by every adapter in `h2_testkit::interop`,
//! listed by `h2_testkit::interop_tests!`; each skips, saying so, when its peer is not
//! installed.

use h2_testkit::interop::{ClientSpec, ServerSpec};

h2_testkit::interop_tests!(
    server: ServerSpec::new("h2-mio", "server"),
    client: ClientSpec::new("h2-mio", "client"),
    tls: true,
);
