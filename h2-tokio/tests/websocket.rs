//! WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 (RFC 6455) on the demo server's `/ws`, on
//! one port, with tokio-tungstenite as the WebSocket client (over our `Upgraded` streams, and
//! with its own handshake on a tokio `TcpStream`): the tests are shared with every async
//! adapter in `h2_testkit::websocket`, listed by `h2_testkit::websocket_tests!`.

h2_testkit::websocket_tests!(
    adapter: h2_tokio,
    runtime: h2_tokio::Tokio,
    test: tokio::test,
    ws: tokio_tungstenite,
    tcp: tokio::net::TcpStream,
    io: [tokio::io::AsyncRead, tokio::io::AsyncWrite],
);
