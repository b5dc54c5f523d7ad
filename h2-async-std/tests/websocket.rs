//! WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 (RFC 6455) on the demo server's `/ws`, on
//! one port, on async-std, with async-tungstenite as the WebSocket client (over futures-io: our
//! `Upgraded` streams, and its own handshake on an async-std `TcpStream`): the tests are shared
//! with every async adapter in `h2_testkit::websocket`, listed by
//! `h2_testkit::websocket_tests!`.

h2_testkit::websocket_tests!(
    adapter: h2_async_std,
    runtime: h2_async_std::AsyncStd,
    test: async_std::test,
    ws: async_tungstenite,
    tcp: async_std::net::TcpStream,
    io: [h2_async_std::AsyncRead, h2_async_std::AsyncWrite],
);
