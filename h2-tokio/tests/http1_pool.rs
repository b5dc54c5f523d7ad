//! `h2_tokio::http1::Http1Pool`, the keep-alive HTTP/1.1 client pool, against our own server
//! (which serves HTTP/1.1 on the same port as h2c) and against a scripted upstream whose
//! framing is broken on purpose. Every wait is bounded by the pool's own timeout.

use bytes::Bytes;
use h2_tokio::http1::Http1Pool;
use h2_tokio::{Body, Server};
use http::{Method, Request, Response};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Our server: `POST /echo` streams the body back; anything else says whether the request
/// declared its length (content-length; a chunked one arrives without it, the framing being
/// HTTP/1.1's own, RFC 9112 §6) and how many body bytes came.
async fn start_server() -> SocketAddr {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(|req: Request<Body>| async move {
        if req.uri().path() == "/echo" {
            return Response::new(req.into_body());
        }
        let framing = if req.headers().contains_key("content-length") {
            "content-length"
        } else {
            "unknown-length"
        };
        let body = req.into_body().bytes().await.unwrap_or_default();
        Response::new(Body::from(format!("{framing} {}", body.len())))
    }));
    addr
}

fn request(addr: SocketAddr, method: Method, path: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(body)
        .expect("request")
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let addr = start_server().await;
    let pool = Http1Pool::new(addr, Duration::from_secs(10));
    for _ in 0..10 {
        let resp = pool
            .send(request(addr, Method::GET, "/", Body::empty()))
            .await
            .expect("response");
        assert_eq!(
            resp.into_body().bytes().await.expect("body"),
            "unknown-length 0"
        );
    }
    assert_eq!(pool.stats().connections_opened, 1);
    assert!(pool.stats().header_bytes_sent > 0);
}

#[tokio::test]
async fn a_body_of_known_length_has_content_length_and_a_streamed_one_arrives_whole() {
    let addr = start_server().await;
    let pool = Http1Pool::new(addr, Duration::from_secs(10));
    let whole = pool
        .send(request(addr, Method::POST, "/", Body::from("12345")))
        .await
        .expect("response");
    assert_eq!(
        whole.into_body().bytes().await.expect("body"),
        "content-length 5"
    );
    let (mut tx, body) = Body::channel();
    let sending = tokio::spawn(async move {
        for _ in 0..3 {
            tx.send_data(Bytes::from_static(b"abcd"))
                .await
                .expect("send");
        }
    });
    let streamed = pool
        .send(request(addr, Method::POST, "/", body))
        .await
        .expect("response");
    assert_eq!(
        streamed.into_body().bytes().await.expect("body"),
        "unknown-length 12"
    );
    sending.await.expect("sender");
}

#[tokio::test]
async fn an_upload_is_echoed_while_it_is_sent() {
    let addr = start_server().await;
    let pool = Http1Pool::new(addr, Duration::from_secs(10));
    let (mut tx, body) = Body::channel();
    let resp = pool
        .send(request(addr, Method::POST, "/echo", body))
        .await
        .expect("head before the upload ended");
    let mut echoed = resp.into_body();
    // Each chunk comes back before the next is sent: both directions stream.
    for i in 0..5u8 {
        tx.send_data(Bytes::from(vec![i; 1000]))
            .await
            .expect("send");
        let mut got = Vec::new();
        while got.len() < 1000 {
            let d = echoed.data().await.expect("more").expect("data");
            got.extend_from_slice(&d);
        }
        assert!(got.iter().all(|&b| b == i));
    }
    drop(tx);
    assert!(
        echoed.data().await.is_none(),
        "the echo ends with the upload"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_an_error_not_a_complete_body() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut head = vec![0u8; 1024];
        let _ = socket.read(&mut head).await;
        // Announces 10 bytes, sends 3, closes.
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
            .await;
    });
    let pool = Http1Pool::new(addr, Duration::from_secs(10));
    let resp = pool
        .send(request(addr, Method::GET, "/", Body::empty()))
        .await
        .expect("head");
    assert!(resp.into_body().bytes().await.is_err());
}
