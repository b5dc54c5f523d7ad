//! HTTP/1.1 on the shared port has the same deadlines as HTTP/2: a head that trickles in
//! (slowloris) gets 408 after `handshake_timeout`, and an idle keep-alive connection closes after
//! `idle_timeout`; other connections are served meanwhile. The timeouts are short and the tests
//! wait for their outcome (408, EOF), never asserting how long it took: CI shares its cores.

use h2_tokio::{Body, Server};
use http::{Request, Response};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(config: h2core::Config) -> SocketAddr {
    let server = Server::bind("127.0.0.1:0").await.unwrap().config(config);
    let addr = server.local_addr().unwrap();
    tokio::spawn(
        server.serve(|_req: Request<Body>| async { Response::new(Body::from("hello\n")) }),
    );
    addr
}

/// A hang guard only: the server closes long before this unless the timeout is broken.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Everything the server sends until it closes the connection.
async fn read_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    match tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut out)).await {
        Ok(Ok(_)) => out,
        Ok(Err(e)) => panic!("reading to EOF: {e} (after {} bytes)", out.len()),
        Err(_) => panic!(
            "the server never closed the connection (hang guard {HANG_GUARD:?}); got {:?}",
            String::from_utf8_lossy(&out)
        ),
    }
}

async fn get_ok(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let out = read_to_end(&mut s).await;
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn a_trickling_http1_head_gets_408_after_handshake_timeout() {
    let mut config = h2core::Config::server();
    config.handshake_timeout = Duration::from_millis(500);
    let addr = start(config).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // Another client is served while the slow one hangs.
    get_ok(addr).await;
    let out = read_to_end(&mut slow).await;
    assert!(
        out.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn an_idle_http1_keep_alive_connection_closes_after_idle_timeout() {
    let mut config = h2core::Config::server();
    config.idle_timeout = Some(Duration::from_millis(500));
    let addr = start(config).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let out = read_to_end(&mut s).await;
    // The response, then EOF once idle: no 408 for a connection between requests.
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(!out.windows(3).any(|w| w == b"408"));
}
