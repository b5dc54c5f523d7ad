//! WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 (RFC 6455) on the demo server's `/ws`, on
//! one port, for every async adapter, written once: the adapter's client opens an extended
//! CONNECT once the server's SETTINGS allow it, and an HTTP/1.1 `Upgrade: websocket`
//! (`client::websocket_http1`), and a real WebSocket client runs over the `Upgraded` stream
//! each gives, and with its own handshake over the runtime's TCP stream; a refused or wrongly
//! accepted HTTP/1.1 handshake fails; a server that did not enable extended CONNECT makes the
//! client fail with a typed error and nothing is sent. [`websocket_tests!`](crate::websocket_tests)
//! lists the tests for an adapter's `tests/websocket.rs`; the WebSocket client is the
//! runtime's own (tokio-tungstenite on tokio, async-tungstenite on futures-io), so no
//! WebSocket crate is a dependency here.

use crate::demo_async;
use h2_async::rt::{self, Runtime};
use h2_async::{Body, Protocol, Server};
use http::{Method, Request};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// The longest one test may take.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `test` on `R`, failing it after [`TEST_LIMIT`].
pub async fn bounded<R: Runtime>(test: impl Future<Output = ()>) {
    rt::timeout_at::<R, _>(R::now() + TEST_LIMIT, test)
        .await
        .expect("the test finished in time")
}

/// The demo server's routes (`/ws` among them) on 127.0.0.1 port 0, extended CONNECT
/// enabled as the demo examples have it (`demo_async::serve`).
pub async fn demo_server<R: Runtime>() -> SocketAddr {
    let server = Server::<R>::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .enable_connect_protocol();
    let addr = server.local_addr().expect("addr");
    R::spawn(async move {
        let _ = server.serve(demo_async::route::<R>).await;
    });
    addr
}

/// A server with extended CONNECT left off (the default), answering everything `200`.
pub async fn server_without_extended_connect<R: Runtime>() -> SocketAddr {
    let server = Server::<R>::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    R::spawn(async move {
        let handler = |_req: Request<Body>| async { http::Response::new(Body::empty()) };
        let _ = server.serve(handler).await;
    });
    addr
}

/// A raw server for one connection that answers any request head with a `101` whose
/// `Sec-WebSocket-Accept` is not the one for the client's key (it is RFC 6455's example).
pub async fn wrong_accept_server<R: Runtime>() -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = R::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = R::local_addr(&listener).expect("addr");
    R::spawn(async move {
        let (mut socket, _) = R::accept(&listener).await.expect("accept");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            if socket.read(&mut byte).await.expect("read") == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let answer = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
            connection: upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        socket.write_all(answer.as_bytes()).await.expect("write");
        let _ = socket.read(&mut [0u8; 16]).await;
    });
    addr
}

/// An extended CONNECT (`:protocol = websocket`) to `path` on `addr`, its body `body`.
pub fn extended_connect(addr: SocketAddr, path: &str, body: Body) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://{addr}{path}"))
        .body(body)
        .expect("request");
    req.extensions_mut()
        .insert(Protocol::from_static("websocket"));
    req
}

/// A `ws://` GET of `path` on `addr`, for `client::websocket_http1`.
pub fn ws_get(addr: SocketAddr, path: &str) -> Request<()> {
    Request::get(format!("ws://{addr}{path}"))
        .body(())
        .expect("request")
}

/// The WebSocket tests for one async adapter's `tests/websocket.rs`, each an async fn under
/// `test` (the runtime's test attribute) and bounded by [`TEST_LIMIT`] on `runtime`. `ws` is
/// the WebSocket client crate (`WebSocketStream::from_raw_socket`, `client_async`,
/// `tungstenite`), `tcp` the runtime's TCP stream for that crate's own handshake, `io` the
/// I/O traits that crate's streams need; the caller has `futures_util` (with `sink`):
///
/// ```text
/// h2_testkit::websocket_tests!(
///     adapter: h2_tokio,
///     runtime: h2_tokio::Tokio,
///     test: tokio::test,
///     ws: tokio_tungstenite,
///     tcp: tokio::net::TcpStream,
///     io: [tokio::io::AsyncRead, tokio::io::AsyncWrite],
/// );
/// ```
///
/// It also defines `exchange` and `open_h2`, the helpers the tests share.
#[macro_export]
macro_rules! websocket_tests {
    (
        adapter: $a:ident,
        runtime: $rt:ty,
        test: $test:meta,
        ws: $ws:ident,
        tcp: $tcp:ty,
        io: [$read:path, $write:path] $(,)?
    ) => {
        /// Sends several messages, text and binary, and reads each echo; then closes.
        async fn exchange<S>(mut ws: $ws::WebSocketStream<S>)
        where
            S: $read + $write + Unpin,
        {
            #[allow(unused_imports)] // async-tungstenite's `send` is its own
            use futures_util::{SinkExt, StreamExt};
            use $ws::tungstenite::Message;
            for i in 0..5 {
                let text = Message::text(format!("message {i}"));
                ws.send(text.clone()).await.expect("send text");
                assert_eq!(ws.next().await.expect("echo").expect("echo"), text);
                let big = Message::binary(vec![i as u8; 100_000]);
                ws.send(big.clone()).await.expect("send binary");
                assert_eq!(ws.next().await.expect("echo").expect("echo"), big);
            }
            ws.close(None).await.expect("close");
            // The server echoes the close and ends its side.
            while let Some(Ok(m)) = ws.next().await {
                assert!(m.is_close(), "{m:?}");
            }
        }

        /// An extended CONNECT to `path` on `client`'s connection, as a client WebSocket.
        async fn open_h2(
            client: &$a::Client,
            addr: std::net::SocketAddr,
            path: &str,
        ) -> $ws::WebSocketStream<$a::Upgraded> {
            use $ws::tungstenite::protocol::Role;
            let (tx, body) = $a::Body::channel();
            let response = client
                .send($crate::websocket::extended_connect(addr, path, body))
                .await
                .expect("response");
            assert_eq!(response.status(), 200);
            let stream = $a::Upgraded::new(response.into_body(), tx);
            $ws::WebSocketStream::from_raw_socket(stream, Role::Client, None).await
        }

        #[$test]
        async fn websocket_echo_over_h2_extended_connect_and_http1_upgrade_on_one_port() {
            use $crate::websocket::{demo_server, ws_get};
            use $ws::tungstenite::protocol::Role;
            $crate::websocket::bounded::<$rt>(async {
                let addr = demo_server::<$rt>().await;

                // HTTP/2: the server's SETTINGS said ENABLE_CONNECT_PROTOCOL = 1.
                let client = $a::Client::connect(addr).await.expect("connect");
                let info = client.connection_info().await.expect("info");
                assert!(info[0].peer_settings.enable_connect_protocol);
                for _ in 0..2 {
                    // Two WebSockets, one after the other, on one connection: streams, not
                    // connections.
                    exchange(open_h2(&client, addr, "/ws").await).await;
                }
                assert_eq!(client.connections(), 1);
                client.close().await;

                // HTTP/1.1 with our client: `Upgrade: websocket`, 101, then the connection is
                // the WebSocket, the same `Upgraded` type.
                for _ in 0..2 {
                    let (response, stream) = $a::client::websocket_http1(addr, ws_get(addr, "/ws"))
                        .await
                        .expect("handshake");
                    assert_eq!(response.status(), 101);
                    assert_eq!(response.version(), $crate::api::http::Version::HTTP_11);
                    assert_eq!(response.headers()["upgrade"], "websocket");
                    let ws = $ws::WebSocketStream::from_raw_socket(stream, Role::Client, None);
                    exchange(ws.await).await;
                }

                // HTTP/1.1 with the WebSocket crate's own handshake: the server speaks RFC 6455
                // to others.
                let tcp = <$tcp>::connect(addr).await.expect("tcp");
                let (ws, response) = $ws::client_async(format!("ws://{addr}/ws"), tcp)
                    .await
                    .expect("handshake");
                assert_eq!(response.status(), 101);
                exchange(ws).await;
            })
            .await
        }

        /// Our HTTP/1.1 handshake against servers that do not accept it: a route that is no
        /// WebSocket answers 404 (the error names it), and a server whose `101` carries the
        /// wrong `Sec-WebSocket-Accept` is refused (RFC 6455 §4.1) rather than handed over.
        #[$test]
        async fn an_http1_websocket_handshake_the_server_did_not_accept_fails() {
            use $crate::websocket::{demo_server, wrong_accept_server, ws_get};
            $crate::websocket::bounded::<$rt>(async {
                let addr = demo_server::<$rt>().await;
                let err = $a::client::websocket_http1(addr, ws_get(addr, "/no-such-route"))
                    .await
                    .expect_err("404");
                assert!(err.to_string().contains("404"), "{err}");

                let wrong = wrong_accept_server::<$rt>().await;
                let err = $a::client::websocket_http1(wrong, ws_get(wrong, "/ws"))
                    .await
                    .expect_err("wrong accept key");
                assert!(err.to_string().contains("Sec-WebSocket-Accept"), "{err}");
            })
            .await
        }

        #[$test]
        async fn extended_connect_to_a_server_that_did_not_enable_it_fails_typed() {
            use $crate::websocket::{extended_connect, server_without_extended_connect};
            $crate::websocket::bounded::<$rt>(async {
                let addr = server_without_extended_connect::<$rt>().await;
                let client = $a::Client::connect(addr).await.expect("connect");
                let (_tx, body) = $a::Body::channel();
                let err = client
                    .send(extended_connect(addr, "/ws", body))
                    .await
                    .expect_err("refused");
                assert!(
                    matches!(
                        err,
                        $a::Error::User(h2core::UserError::ExtendedConnectDisabled)
                    ),
                    "{err:?}"
                );
                client.close().await;
            })
            .await
        }

        /// `/ws?announce=1`: the server's first message names the protocol that carried the
        /// WebSocket (what h2-tokio's tests/browser.rs reads in Chromium's page), then the echo
        /// goes on as usual.
        #[$test]
        async fn the_first_message_names_the_carrier_when_asked() {
            use futures_util::StreamExt;
            use $crate::websocket::{demo_server, ws_get};
            use $ws::tungstenite::protocol::Role;
            use $ws::tungstenite::Message;
            $crate::websocket::bounded::<$rt>(async {
                let addr = demo_server::<$rt>().await;
                let client = $a::Client::connect(addr).await.expect("connect");
                // One request first: the WebSocket is then the connection's second stream.
                let get = $crate::api::http::Request::get(format!("http://{addr}/"))
                    .body($a::Body::empty())
                    .expect("request");
                let hello = client.send(get).await.expect("response");
                hello.into_body().bytes().await.expect("body");
                let mut ws = open_h2(&client, addr, "/ws?announce=1").await;
                let first = ws
                    .next()
                    .await
                    .expect("announcement")
                    .expect("announcement");
                assert_eq!(
                    first,
                    Message::text("carrier: HTTP/2.0 CONNECT; streams on its connection: 2")
                );
                exchange(ws).await;
                client.close().await;

                // Over HTTP/1.1 with our client: the announcement comes right after the 101,
                // often in the same read as its head; `Upgraded` hands those bytes out first.
                let (_, stream) = $a::client::websocket_http1(addr, ws_get(addr, "/ws?announce=1"))
                    .await
                    .expect("handshake");
                let mut ws =
                    $ws::WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
                let first = ws
                    .next()
                    .await
                    .expect("announcement")
                    .expect("announcement");
                assert_eq!(first, Message::text("carrier: HTTP/1.1 GET"));
                exchange(ws).await;
            })
            .await
        }
    };
}
