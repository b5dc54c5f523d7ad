//! WebSockets over HTTP/2 (RFC 8441) and HTTP/1.1 (RFC 6455) on the demo server's `/ws`, on
//! one port: our client opens an extended CONNECT once the server's SETTINGS allow it, and an
//! HTTP/1.1 `Upgrade: websocket` (`client::websocket_http1`), and runs a real WebSocket client
//! (tokio-tungstenite's `from_raw_socket`) over the `Upgraded` stream each gives;
//! tokio-tungstenite's own handshake too; a refused or wrongly accepted HTTP/1.1 handshake
//! fails; a server that did not enable extended CONNECT makes our client fail with a typed
//! error and nothing is sent.

use futures_util::{SinkExt, StreamExt};
use h2_testkit::demo::ServerArgs;
use h2_tokio::{Body, Client, Error, Protocol, Server, Tokio, Upgraded};
use http::{Method, Request};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The demo server on a free port (extended CONNECT enabled, as the examples have it).
async fn demo_server() -> SocketAddr {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    drop(server);
    let args = ServerArgs::parse(["server".to_owned(), "--listen".into(), addr.to_string()]);
    tokio::spawn(h2_testkit::demo_async::serve::<Tokio>(
        args,
        std::future::pending(),
    ));
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return addr;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("demo server did not start");
}

/// Sends several messages, text and binary, and reads each echo; then closes.
async fn exchange<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
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

fn extended_connect(addr: SocketAddr, body: Body) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://{addr}/ws"))
        .body(body)
        .expect("request");
    req.extensions_mut()
        .insert(Protocol::from_static("websocket"));
    req
}

#[tokio::test]
async fn websocket_echo_over_h2_extended_connect_and_http1_upgrade_on_one_port() {
    let addr = demo_server().await;

    // HTTP/2: the server's SETTINGS said ENABLE_CONNECT_PROTOCOL = 1.
    let client = Client::connect(addr).await.expect("connect");
    let info = client.connection_info().await.expect("info");
    assert!(info[0].peer_settings.enable_connect_protocol);
    for _ in 0..2 {
        // Two WebSockets, one after the other, on one connection: streams, not connections.
        let (tx, body) = Body::channel();
        let response = client
            .send(extended_connect(addr, body))
            .await
            .expect("response");
        assert_eq!(response.status(), 200);
        let stream = Upgraded::new(response.into_body(), tx);
        exchange(WebSocketStream::from_raw_socket(stream, Role::Client, None).await).await;
    }
    client.close().await;

    // HTTP/1.1 with our client: `Upgrade: websocket`, 101, then the connection is the
    // WebSocket, the same `Upgraded` type.
    for _ in 0..2 {
        let (response, stream) = h2_tokio::client::websocket_http1(addr, ws_get(addr, "/ws"))
            .await
            .expect("handshake");
        assert_eq!(response.status(), 101);
        assert_eq!(response.version(), http::Version::HTTP_11);
        assert_eq!(response.headers()["upgrade"], "websocket");
        exchange(WebSocketStream::from_raw_socket(stream, Role::Client, None).await).await;
    }

    // HTTP/1.1 with tokio-tungstenite's own handshake: the server speaks RFC 6455 to others.
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let (ws, response) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp)
        .await
        .expect("handshake");
    assert_eq!(response.status(), 101);
    exchange(ws).await;
}

fn ws_get(addr: SocketAddr, path: &str) -> Request<()> {
    Request::get(format!("ws://{addr}{path}"))
        .body(())
        .expect("request")
}

/// Our HTTP/1.1 handshake against servers that do not accept it: a route that is no WebSocket
/// answers 404 (the error names it), and a server whose `101` carries the wrong
/// `Sec-WebSocket-Accept` is refused (RFC 6455 §4.1) rather than handed over.
#[tokio::test]
async fn an_http1_websocket_handshake_the_server_did_not_accept_fails() {
    let addr = demo_server().await;
    let err = h2_tokio::client::websocket_http1(addr, ws_get(addr, "/no-such-route"))
        .await
        .expect_err("404");
    assert!(err.to_string().contains("404"), "{err}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let wrong = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.expect("accept");
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
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        h2_tokio::client::websocket_http1(wrong, ws_get(wrong, "/ws")),
    )
    .await
    .expect("bounded")
    .expect_err("wrong accept key");
    assert!(err.to_string().contains("Sec-WebSocket-Accept"), "{err}");
}

#[tokio::test]
async fn extended_connect_to_a_server_that_did_not_enable_it_fails_typed() {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(|_req: Request<Body>| async { http::Response::new(Body::empty()) }));
    let client = Client::connect(addr).await.expect("connect");
    let (_tx, body) = Body::channel();
    let err = client
        .send(extended_connect(addr, body))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, Error::User(h2core::UserError::ExtendedConnectDisabled)),
        "{err:?}"
    );
    client.close().await;
}

/// `/ws?announce=1`: the server's first message names the protocol that carried the WebSocket
/// (what tests/browser.rs reads in Chromium's page), then the echo goes on as usual.
#[tokio::test]
async fn the_first_message_names_the_carrier_when_asked() {
    let addr = demo_server().await;
    let client = Client::connect(addr).await.expect("connect");
    // One request first: the WebSocket is then the connection's second stream.
    let hello = client
        .send(
            Request::get(format!("http://{addr}/"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    hello.into_body().bytes().await.expect("body");
    let (tx, body) = Body::channel();
    let mut req = extended_connect(addr, body);
    *req.uri_mut() = format!("http://{addr}/ws?announce=1").parse().expect("uri");
    let response = client.send(req).await.expect("response");
    assert_eq!(response.status(), 200);
    let stream = Upgraded::new(response.into_body(), tx);
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
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

    // Over HTTP/1.1 with our client: the announcement comes right after the 101, often in the
    // same read as its head; `Upgraded` hands those bytes out first.
    let (_, stream) = h2_tokio::client::websocket_http1(addr, ws_get(addr, "/ws?announce=1"))
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
}
