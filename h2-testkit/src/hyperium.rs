//! hyperium's `h2` as an in-process peer of every async adapter: its server against our
//! `Client`, its client against our `Server`. hyperium runs on a tokio runtime of its own (on
//! its own threads), our side on the runtime under test, so the tests are the same for each.
//! [`hyperium_tests!`](crate::hyperium_tests) lists them for an adapter's test file.

use crate::interop;
use bytes::Bytes;
use h2_async::rt::{self, Runtime};
use h2_async::{Body, BodySender, Client, Server};
use http::{Method, Request, StatusCode};
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::mpsc;

/// Bound for each test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The tokio runtime hyperium's side runs on, shared by the tests of one process.
fn hyperium_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime for hyperium h2")
    })
}

/// Runs `f` on our side's runtime `R`, failing the test after [`TEST_TIMEOUT`].
async fn bounded<R: Runtime, F: Future>(f: F) -> F::Output {
    rt::timeout_at::<R, _>(R::now() + TEST_TIMEOUT, f)
        .await
        .expect("test timed out")
}

/// Distinct bodies per request, so a response delivered to the wrong stream is caught.
pub fn body_for(i: usize) -> Bytes {
    let mut b = interop::pattern(10_000 + 997 * i);
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Bytes::from(b)
}

/// What hyperium's server answers a GET with.
pub const HYPERIUM_HELLO: &[u8] = b"hello from h2\n";

/// The 50 requests our client sends to hyperium's server: even ones `GET /`, odd ones a POST
/// of [`body_for`]`(i)` to `/echo`.
pub fn fifty_requests(addr: SocketAddr) -> Vec<Request<Bytes>> {
    (0..50)
        .map(|i| {
            if i % 2 == 0 {
                Request::get(format!("http://{addr}/")).body(Bytes::new())
            } else {
                Request::post(format!("http://{addr}/echo")).body(body_for(i))
            }
            .expect("request")
        })
        .collect()
}

/// Checks the answer to request `i` of [`fifty_requests`].
pub fn check_fifty(i: usize, status: StatusCode, body: &[u8]) {
    assert_eq!(status, StatusCode::OK, "request {i}");
    if i % 2 == 0 {
        assert_eq!(body, HYPERIUM_HELLO, "request {i}");
    } else {
        assert!(body == &body_for(i)[..], "request {i}: wrong echo");
    }
}

/// A server on hyperium's h2: GET → `hello from h2\n`, POST → the body back, on its own tokio
/// threads. It runs until the test process ends.
pub fn spawn_hyperium_server() -> SocketAddr {
    let rt = hyperium_runtime();
    // Bound here, not with block_on: the caller may be inside a tokio runtime itself.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking");
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(socket).await.expect("h2 handshake");
                while let Some(next) = conn.accept().await {
                    let Ok((req, mut respond)) = next else {
                        return;
                    };
                    tokio::spawn(async move {
                        let (parts, body) = req.into_parts();
                        let data = read_h2_body(body).await;
                        let reply = if parts.method == Method::POST {
                            Bytes::from(data)
                        } else {
                            Bytes::from_static(HYPERIUM_HELLO)
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

/// Reads a hyperium body whole, giving the window back as it goes.
async fn read_h2_body(mut body: h2::RecvStream) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("body");
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    data
}

/// Our client on `R`: 50 concurrent requests (GETs and POST echoes) to hyperium's server, all
/// on one connection, each response on its own stream.
pub async fn our_client_sends_fifty_concurrent_requests<R: Runtime>() {
    let addr = spawn_hyperium_server();
    bounded::<R, _>(async {
        let client = Client::<R>::connect(addr).await.expect("connect");
        let (tx, mut rx) = mpsc::unbounded_channel();
        for (i, req) in fifty_requests(addr).into_iter().enumerate() {
            let client = client.clone();
            let tx = tx.clone();
            R::spawn(async move {
                let resp = client.send(req.map(Body::from)).await.expect("response");
                let status = resp.status();
                let body = resp.into_body().bytes().await.expect("body");
                let _ = tx.send((i, status, body));
            });
        }
        drop(tx);
        let mut seen = 0;
        while let Some((i, status, body)) = rx.recv().await {
            seen += 1;
            check_fifty(i, status, &body);
        }
        assert_eq!(seen, 50, "a request task failed");
        // h2's server sets no concurrency limit: everything went over one connection.
        assert_eq!(client.connections(), 1);
    })
    .await
}

/// Our server on `R` with the demo routes, plus `/held`: its response head goes out at once
/// and its body's sender is handed to the test, which decides when data follows.
async fn spawn_our_server<R: Runtime>() -> (SocketAddr, mpsc::UnboundedReceiver<BodySender>) {
    let server = Server::<R>::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("local addr");
    let (held_tx, held_rx) = mpsc::unbounded_channel();
    R::spawn(async move {
        let _ = server
            .serve(move |req: Request<Body>| {
                let held_tx = held_tx.clone();
                async move {
                    if req.uri().path() == "/held" {
                        let (tx, body) = Body::channel();
                        let _ = held_tx.send(tx);
                        return http::Response::new(body);
                    }
                    crate::demo_async::route::<R>(req).await
                }
            })
            .await;
    });
    (addr, held_rx)
}

/// hyperium's client against our server on `R` ([`hyperium_client_checks`]).
pub async fn hyperium_client_concurrent_requests_and_echo<R: Runtime>() {
    let (addr, _held) = spawn_our_server::<R>().await;
    // Our server runs on R meanwhile; hyperium's task is awaited through tokio's JoinHandle,
    // which any executor can poll.
    bounded::<R, _>(hyperium_client_checks(addr))
        .await
        .expect("hyperium client");
}

/// hyperium's client against a server at `addr` with the demo routes (`/`, `/bytes/N`, `POST
/// /echo`), run on hyperium's own tokio threads: 30 concurrent GETs on one connection, then a
/// 3 MB POST echo (beyond a 2 MiB connection window, so the server's WINDOW_UPDATEs are
/// needed; h2 sends only what its capacity allows, and the echo is read while uploading).
/// Await the handle (from any executor) or block on [`wait_hyperium`].
pub fn hyperium_client_checks(addr: SocketAddr) -> tokio::task::JoinHandle<()> {
    hyperium_runtime().spawn(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (send, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let conn_task = tokio::spawn(conn);
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
                assert_eq!(body, crate::demo::HELLO.as_bytes());
            } else {
                assert_eq!(body.len(), 1000 * i, "request {i}");
                assert!(body.iter().all(|&b| b == crate::demo::BYTES_FILL));
            }
        }

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
}

/// Blocks until a task on hyperium's runtime ends, within [`TEST_TIMEOUT`] (for a test
/// without an async runtime of its own).
pub fn wait_hyperium<T: Send + 'static>(task: tokio::task::JoinHandle<T>) -> T {
    let bounded = async { tokio::time::timeout(TEST_TIMEOUT, task).await };
    let (tx, rx) = std::sync::mpsc::channel();
    hyperium_runtime().spawn(async move {
        let _ = tx.send(bounded.await);
    });
    rx.recv()
        .expect("hyperium's runtime is running")
        .expect("test timed out")
        .expect("hyperium task")
}

/// A long-lived stream (the "downchannel"): the response head reaches our client while the
/// handler still holds its body open, before any data exists; data sent later follows.
pub async fn our_client_gets_held_stream_headers_before_any_data<R: Runtime>() {
    bounded::<R, _>(async {
        let (addr, mut held) = spawn_our_server::<R>().await;
        let client = Client::<R>::connect(addr).await.expect("connect");
        let req = Request::get(format!("http://{addr}/held"))
            .body(Body::empty())
            .expect("request");
        // The handler has produced no data yet: the head must arrive on its own.
        let resp = client.send(req).await.expect("response head");
        assert_eq!(resp.status(), StatusCode::OK);
        let mut tx = held.recv().await.expect("the handler's body sender");
        tx.send_data(Bytes::from_static(b"first\n"))
            .await
            .expect("send");
        drop(tx);
        let mut body = resp.into_body();
        let first = body.data().await.expect("a chunk").expect("chunk");
        assert_eq!(&first[..], b"first\n");
        let rest = body.data().await;
        assert!(rest.is_none(), "one chunk only, then: {rest:?}");
    })
    .await
}

/// The hyperium tests for one adapter: `hyperium_tests!(runtime: h2_tokio::Tokio, block_on:
/// run)` where `run(future)` runs a future on that runtime to completion.
#[macro_export]
macro_rules! hyperium_tests {
    (runtime: $rt:ty, block_on: $block_on:expr $(,)?) => {
        #[test]
        fn our_client_sends_fifty_concurrent_requests_to_hyperium_h2_server() {
            $block_on($crate::hyperium::our_client_sends_fifty_concurrent_requests::<$rt>())
        }

        #[test]
        fn hyperium_h2_client_concurrent_requests_and_echo_against_our_server() {
            $block_on($crate::hyperium::hyperium_client_concurrent_requests_and_echo::<$rt>())
        }

        #[test]
        fn our_client_gets_long_lived_stream_headers_before_any_data() {
            $block_on(
                $crate::hyperium::our_client_gets_held_stream_headers_before_any_data::<$rt>(),
            )
        }
    };
}
