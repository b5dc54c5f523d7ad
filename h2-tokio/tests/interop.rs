//! Interop: the tokio adapter against real peers.
//!
//! - The demo `server` and `client` examples against curl (prior knowledge, `Upgrade: h2c`,
//!   TLS with ALPN, HTTP/1.1 chunked and keep-alive), nghttp, nghttpd, h2load and python-hyper's
//!   `h2`: the tests are shared with every adapter in `h2_testkit::interop`, listed by
//!   `h2_testkit::interop_tests!`; each skips, saying so, when its peer is not installed.
//! - hyperium's `h2` (a dev-dependency, only a test peer) in-process: its server against our
//!   `Client`, its client against our `Server`.

use bytes::Bytes;
use h2_testkit::interop::{self, ClientSpec, ServerSpec};
use h2_tokio::{Body, Client, Server};
use http::{Method, Request, Response, StatusCode};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};

h2_testkit::interop_tests!(
    server: ServerSpec::new("h2-tokio", "server"),
    client: ClientSpec::new("h2-tokio", "client"),
    tls: true,
);

/// Bound for each in-process test.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// hyperium h2, in-process.

/// Distinct bodies per request, so a response delivered to the wrong stream is caught.
fn body_for(i: usize) -> Bytes {
    let mut b = interop::pattern(10_000 + 997 * i);
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Bytes::from(b)
}

/// A server on hyperium's h2: GET → `hello from h2\n`, POST → the body back. Returns its
/// address; it runs until the test's runtime ends.
async fn spawn_hyperium_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(socket).await.expect("h2 handshake");
                while let Some(next) = conn.accept().await {
                    let Ok((req, mut respond)) = next else {
                        return;
                    };
                    tokio::spawn(async move {
                        let (parts, mut body) = req.into_parts();
                        let mut data = Vec::new();
                        while let Some(chunk) = body.data().await {
                            let chunk = chunk.expect("request body");
                            let _ = body.flow_control().release_capacity(chunk.len());
                            data.extend_from_slice(&chunk);
                        }
                        let reply = if parts.method == Method::POST {
                            Bytes::from(data)
                        } else {
                            Bytes::from_static(b"hello from h2\n")
                        };
                        let head = http::Response::builder()
                            .status(200)
                            .body(())
                            .expect("response");
                        let mut send = respond.send_response(head, false).expect("respond");
                        // h2 queues what exceeds the window and sends it as the window opens.
                        send.send_data(reply, true).expect("send body");
                    });
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_sends_fifty_concurrent_requests_to_hyperium_h2_server() {
    timeout(TEST_TIMEOUT, async {
        let addr = spawn_hyperium_server().await;
        let client = Client::connect(addr).await.expect("connect");
        let mut tasks = Vec::new();
        for i in 0..50 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let req = if i % 2 == 0 {
                    Request::get(format!("http://{addr}/"))
                        .body(Body::empty())
                        .expect("request")
                } else {
                    Request::post(format!("http://{addr}/echo"))
                        .body(Body::from(body_for(i)))
                        .expect("request")
                };
                let resp = client.send(req).await.expect("response");
                assert_eq!(resp.status(), StatusCode::OK);
                let body = resp.into_body().bytes().await.expect("body");
                (i, body)
            }));
        }
        for task in tasks {
            let (i, body) = task.await.expect("request task");
            if i % 2 == 0 {
                assert_eq!(&body[..], b"hello from h2\n", "request {i}");
            } else {
                assert!(body == body_for(i), "request {i}: wrong echo");
            }
        }
        // h2's server sets no concurrency limit: everything went over one connection.
        assert_eq!(client.connections(), 1);
    })
    .await
    .expect("test timed out");
}

/// Our server with a few routes, for in-process peers.
async fn spawn_our_server() -> SocketAddr {
    let server = Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("local addr");
    tokio::spawn(server.serve(|req: Request<Body>| async move {
        match (req.method().clone(), req.uri().path()) {
            (Method::POST, "/echo") => Response::new(req.into_body()),
            (Method::GET, p) if p.starts_with("/bytes/") => {
                let n: usize = p["/bytes/".len()..].parse().unwrap_or(0);
                Response::new(Body::from(vec![b'x'; n]))
            }
            (Method::GET, "/stream") => {
                let (mut tx, body) = Body::channel();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    let _ = tx.send_data(Bytes::from_static(b"first\n")).await;
                });
                Response::new(body)
            }
            _ => Response::new(Body::from("hello\n")),
        }
    }));
    addr
}

/// Reads a hyperium response body whole, giving the window back as it goes.
async fn read_h2_body(mut body: h2::RecvStream) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("response body");
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperium_h2_client_concurrent_requests_and_echo_against_our_server() {
    timeout(TEST_TIMEOUT, async {
        let addr = spawn_our_server().await;
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (send, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let conn_task = tokio::spawn(conn);

        // 30 GETs at once on one connection.
        let mut tasks = Vec::new();
        for i in 0..30usize {
            let mut send = send.clone().ready().await.expect("ready");
            let path = if i % 3 == 0 {
                "/".to_owned()
            } else {
                format!("/bytes/{}", 1000 * i)
            };
            let req = Request::get(format!("http://{addr}{path}"))
                .body(())
                .expect("request");
            let (resp, _) = send.send_request(req, true).expect("send request");
            tasks.push(tokio::spawn(async move {
                let resp = resp.await.expect("response");
                assert_eq!(resp.status(), StatusCode::OK);
                (i, read_h2_body(resp.into_body()).await)
            }));
        }
        for task in tasks {
            let (i, body) = task.await.expect("request task");
            if i % 3 == 0 {
                assert_eq!(body, b"hello\n");
            } else {
                assert_eq!(body.len(), 1000 * i, "request {i}");
                assert!(body.iter().all(|&b| b == b'x'));
            }
        }

        // A 3 MB POST echo: beyond our 2 MiB connection window, so it needs our WINDOW_UPDATEs;
        // h2 sends only what its capacity allows. The echo is read while uploading.
        let sent = Bytes::from(interop::pattern(3_000_000));
        let mut send = send.clone().ready().await.expect("ready");
        let req = Request::post(format!("http://{addr}/echo"))
            .body(())
            .expect("request");
        let (resp, mut stream) = send.send_request(req, false).expect("send request");
        let reader = tokio::spawn(async move {
            let resp = resp.await.expect("response");
            assert_eq!(resp.status(), StatusCode::OK);
            read_h2_body(resp.into_body()).await
        });
        let mut rest = sent.clone();
        while !rest.is_empty() {
            stream.reserve_capacity(rest.len());
            let granted = poll_fn(|cx| stream.poll_capacity(cx))
                .await
                .expect("stream open")
                .expect("capacity");
            if granted == 0 {
                continue;
            }
            let chunk = rest.split_to(granted.min(rest.len()));
            stream.send_data(chunk, rest.is_empty()).expect("send data");
        }
        let echoed = reader.await.expect("reader task");
        assert_eq!(echoed.len(), sent.len());
        assert!(echoed == sent, "echo differs from the upload");

        drop(send);
        conn_task.abort();
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_gets_long_lived_stream_headers_before_first_chunk() {
    timeout(TEST_TIMEOUT, async {
        let addr = spawn_our_server().await;
        let client = Client::connect(addr).await.expect("connect");
        let started = Instant::now();
        let req = Request::get(format!("http://{addr}/stream"))
            .body(Body::empty())
            .expect("request");
        let resp = client.send(req).await.expect("response");
        let headers_at = started.elapsed();
        assert_eq!(resp.status(), StatusCode::OK);
        let mut body = resp.into_body();
        let first = body.data().await.expect("a chunk").expect("chunk");
        let first_at = started.elapsed();
        assert_eq!(&first[..], b"first\n");
        // The handler sends its first chunk 2 s after the headers.
        assert!(
            headers_at < Duration::from_millis(1500),
            "headers took {headers_at:?}"
        );
        assert!(
            first_at >= Duration::from_millis(1900),
            "first chunk after {first_at:?}"
        );
        assert!(body.data().await.is_none(), "one chunk only");
    })
    .await
    .expect("test timed out");
}
