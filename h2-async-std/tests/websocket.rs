//! WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 (RFC 6455) on the demo server's `/ws`, on
//! one port, on async-std (h2-tokio's tests/websocket.rs, on this runtime): our async-std
//! client opens an extended CONNECT once the server's SETTINGS allow it and runs a real
//! WebSocket client (async-tungstenite, over futures-io) on the stream; the same over our
//! `client::websocket_http1` (`Upgrade: websocket`, the same `Upgraded` type), and with
//! async-tungstenite's own handshake on an async-std TCP connection; `/ws?announce=1` names what carried
//! it; a server that did not enable extended CONNECT makes our client fail with a typed error.
//! Every exchange is bounded.

use async_std::future::timeout;
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::WebSocketStream;
use futures_util::StreamExt;
use h2_async_std::{AsyncRead, AsyncStd, AsyncWrite, Body, Client, Error, Protocol};
use h2_async_std::{Server, Upgraded};
use http::{Method, Request};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// The longest one test may take.
const TEST_LIMIT: Duration = Duration::from_secs(60);

fn run(test: impl Future<Output = ()>) {
    async_std::task::block_on(async {
        timeout(TEST_LIMIT, test)
            .await
            .expect("the test finished in time")
    })
}

/// The demo server's routes (`/ws` among them) on a free port, extended CONNECT enabled as
/// the demo examples have it.
async fn demo_server() -> SocketAddr {
    let server = Server::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .enable_connect_protocol();
    let addr = server.local_addr().expect("addr");
    async_std::task::spawn(server.serve(h2_testkit::demo_async::route::<AsyncStd>));
    addr
}

/// Sends several messages, text and binary, and reads each echo; then closes.
async fn exchange<S>(mut ws: WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
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

fn extended_connect(addr: SocketAddr, path: &str, body: Body) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://{addr}{path}"))
        .body(body)
        .expect("request");
    req.extensions_mut()
        .insert(Protocol::from_static("websocket"));
    req
}

fn ws_get(addr: SocketAddr, path: &str) -> Request<()> {
    Request::get(format!("ws://{addr}{path}"))
        .body(())
        .expect("request")
}

/// An extended CONNECT to `path` on `client`'s connection, as a client WebSocket.
async fn open_h2(client: &Client, addr: SocketAddr, path: &str) -> WebSocketStream<Upgraded> {
    let (tx, body) = Body::channel();
    let response = client
        .send(extended_connect(addr, path, body))
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let stream = Upgraded::new(response.into_body(), tx);
    WebSocketStream::from_raw_socket(stream, Role::Client, None).await
}

#[test]
fn websocket_echo_over_h2_extended_connect_and_http1_upgrade_on_one_port() {
    run(async {
        let addr = demo_server().await;

        // HTTP/2: the server's SETTINGS said ENABLE_CONNECT_PROTOCOL = 1.
        let client = Client::connect(addr).await.expect("connect");
        let info = client.connection_info().await.expect("info");
        assert!(info[0].peer_settings.enable_connect_protocol);
        for _ in 0..2 {
            // Two WebSockets, one after the other, on one connection: streams, not connections.
            exchange(open_h2(&client, addr, "/ws").await).await;
        }
        assert_eq!(client.connections(), 1);
        client.close().await;

        // HTTP/1.1 with our client: `Upgrade: websocket`, 101, then the connection is the
        // WebSocket, the same `Upgraded` type.
        for _ in 0..2 {
            let (response, stream) =
                h2_async_std::client::websocket_http1(addr, ws_get(addr, "/ws"))
                    .await
                    .expect("handshake");
            assert_eq!(response.status(), 101);
            assert_eq!(response.headers()["upgrade"], "websocket");
            exchange(WebSocketStream::from_raw_socket(stream, Role::Client, None).await).await;
        }

        // HTTP/1.1 with async-tungstenite's own handshake.
        let tcp = async_std::net::TcpStream::connect(addr).await.expect("tcp");
        let (ws, response) = async_tungstenite::client_async(format!("ws://{addr}/ws"), tcp)
            .await
            .expect("handshake");
        assert_eq!(response.status(), 101);
        exchange(ws).await;
    });
}

/// `/ws?announce=1`: the first message names the protocol that carried the WebSocket, then
/// the echo goes on as usual.
#[test]
fn the_first_message_names_the_carrier_when_asked() {
    run(async {
        let addr = demo_server().await;
        let client = Client::connect(addr).await.expect("connect");
        let get = Request::get(format!("http://{addr}/"))
            .body(Body::empty())
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

        // Over HTTP/1.1 with our client: the announcement follows the 101 at once.
        let (_, stream) =
            h2_async_std::client::websocket_http1(addr, ws_get(addr, "/ws?announce=1"))
                .await
                .expect("handshake");
        let mut ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
        let first = ws
            .next()
            .await
            .expect("announcement")
            .expect("announcement");
        assert_eq!(first, Message::text("carrier: HTTP/1.1 GET"));
        exchange(ws).await;
    });
}

#[test]
fn extended_connect_to_a_server_that_did_not_enable_it_fails_typed() {
    run(async {
        let server = Server::bind("127.0.0.1:0").await.expect("bind");
        let addr = server.local_addr().expect("addr");
        async_std::task::spawn(
            server.serve(|_req: Request<Body>| async { http::Response::new(Body::empty()) }),
        );
        let client = Client::connect(addr).await.expect("connect");
        let (_tx, body) = Body::channel();
        let err = client
            .send(extended_connect(addr, "/ws", body))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, Error::User(h2core::UserError::ExtendedConnectDisabled)),
            "{err:?}"
        );
        client.close().await;
    });
}

/// A route that is no WebSocket answers our HTTP/1.1 handshake with 404, which the error names.
#[test]
fn an_http1_websocket_handshake_the_server_refused_fails_naming_its_status() {
    run(async {
        let addr = demo_server().await;
        let err = h2_async_std::client::websocket_http1(addr, ws_get(addr, "/no-such-route"))
            .await
            .expect_err("404");
        assert!(err.to_string().contains("404"), "{err}");
    });
}
