//! Bad and slow peers against the tokio adapter, in-process on 127.0.0.1 port 0: garbage instead
//! of a preface, truncated HTTP/1.1 bodies, a client that stops reading, a handler that reads
//! slowly, a server's MAX_CONCURRENT_STREAMS, graceful shutdown. In every case the server answers
//! with the right error, frees the connection and keeps serving others; every wait is bounded.

use bytes::Bytes;
use h2_tokio::{Body, Client, Server};
use h2core::Config;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::{sleep, timeout, Instant};

/// Bound for each test.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How soon a server must close a connection it gave up on.
const PROMPTLY: Duration = Duration::from_secs(5);

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const GOAWAY: u8 = 0x7;
const PROTOCOL_ERROR: u32 = 0x1;
const FRAME_SIZE_ERROR: u32 = 0x6;

/// Runs `test` on a two-thread runtime, failing it after `TEST_TIMEOUT`.
async fn bounded(test: impl Future<Output = ()>) {
    timeout(TEST_TIMEOUT, test).await.expect("test timed out");
}

/// Serves `handler` with `config` on 127.0.0.1 port 0 until the test's runtime ends.
async fn serve<F, Fut>(config: Config, handler: F) -> SocketAddr
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let server = Server::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .config(config);
    let addr = server.local_addr().expect("local addr");
    tokio::spawn(server.serve(handler));
    addr
}

async fn hello(_req: Request<Body>) -> Response<Body> {
    Response::new(Body::from("hello\n"))
}

/// GET / over HTTP/2 on a new connection: the server still serves.
async fn still_serves_http2(addr: SocketAddr) {
    let client = Client::connect(addr).await.expect("connect");
    let req = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .expect("request");
    let resp = timeout(PROMPTLY, client.send(req))
        .await
        .expect("response in time")
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().bytes().await.expect("body");
    assert_eq!(&body[..], b"hello\n");
    client.shutdown();
}

/// GET / over HTTP/1.1 on a new connection: the server still serves.
async fn still_serves_http11(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let answer = read_to_eof(&mut s).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("hello\n"), "{text}");
}

/// Everything the server sends until it closes the connection, which must be within
/// `PROMPTLY`, and with FIN: a reset would lose the error the server sent last.
async fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let read = timeout(PROMPTLY, s.read_to_end(&mut out)).await;
    match read {
        Err(_) => panic!(
            "the server did not close the connection within {PROMPTLY:?}; got {} bytes: {:?}",
            out.len(),
            String::from_utf8_lossy(&out[..out.len().min(200)])
        ),
        Ok(Err(e)) => panic!("reading to EOF: {e} (after {} bytes)", out.len()),
        Ok(Ok(_)) => out,
    }
}

/// HTTP/2 frames (type, flags, stream, payload) in `bytes`, which must hold whole frames.
fn frames(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7FFF_FFFF;
        assert!(bytes.len() >= 9 + len, "truncated frame: {:?}", &bytes[..9]);
        out.push((bytes[3], bytes[4], stream, bytes[9..9 + len].to_vec()));
        bytes = &bytes[9 + len..];
    }
    assert!(bytes.is_empty(), "{} stray bytes", bytes.len());
    out
}

/// Deterministic noise (xorshift32).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// What the server is expected to answer to garbage.
enum Answer {
    /// An HTTP/1.1 error response (4xx or 5xx), then close.
    Http1Error,
    /// GOAWAY with one of these codes as the last frame, then close.
    GoAway(&'static [u32]),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_preface_gets_an_error_and_the_server_keeps_serving() {
    bounded(async {
        let addr = serve(Config::server(), hello).await;
        // A PING where the client's SETTINGS must be (RFC 9113 §3.4).
        let mut ping_first = PREFACE.to_vec();
        ping_first.extend_from_slice(&[0, 0, 8, 0x6, 0, 0, 0, 0, 0]);
        ping_first.extend_from_slice(b"12345678");
        let cases: Vec<(&str, Vec<u8>, Answer)> = vec![
            (
                "100 bytes starting like the preface",
                [b"PRI * HTTP/2.0\r\n\r\nXX".as_slice(), &noise(80, 1)].concat(),
                // It parses as an HTTP/1.1 request line with version HTTP/2.0.
                Answer::Http1Error,
            ),
            (
                "the preface, then 76 random bytes",
                [PREFACE, &noise(76, 2)].concat(),
                Answer::GoAway(&[PROTOCOL_ERROR, FRAME_SIZE_ERROR]),
            ),
            (
                "the preface, then PING instead of SETTINGS",
                ping_first,
                Answer::GoAway(&[PROTOCOL_ERROR]),
            ),
            ("100 random bytes", noise(100, 3), Answer::Http1Error),
        ];
        for (what, bytes, expected) in cases {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(&bytes).await.expect("write garbage");
            let answer = read_to_eof(&mut s).await;
            match expected {
                Answer::Http1Error => {
                    let text = String::from_utf8_lossy(&answer);
                    assert!(
                        text.starts_with("HTTP/1.1 4") || text.starts_with("HTTP/1.1 5"),
                        "{what}: want an HTTP/1.1 error, got {text:?}"
                    );
                }
                Answer::GoAway(codes) => {
                    let frames = frames(&answer);
                    let last = frames.last().expect("some frame");
                    assert_eq!(last.0, GOAWAY, "{what}: last frame {last:?}");
                    let code = u32::from_be_bytes(last.3[4..8].try_into().expect("code"));
                    assert!(
                        codes.contains(&code),
                        "{what}: GOAWAY code {code:#x}, want one of {codes:x?} (debug: {:?})",
                        String::from_utf8_lossy(&last.3[8..])
                    );
                }
            }
        }
        still_serves_http2(addr).await;
        still_serves_http11(addr).await;
    })
    .await;
}

/// A handler for /collect that reads the body whole and reports what it saw; /echo streams
/// the body back; / says hello.
fn collecting_handler(
    seen: mpsc::UnboundedSender<Result<usize, String>>,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + Send>>
       + Send
       + Sync
       + 'static {
    move |req: Request<Body>| {
        let seen = seen.clone();
        Box::pin(async move {
            match req.uri().path() {
                "/collect" => {
                    let result = req.into_body().bytes().await;
                    let _ = seen.send(result.as_ref().map(|b| b.len()).map_err(|e| e.to_string()));
                    match result {
                        Ok(b) => Response::new(Body::from(format!("{}\n", b.len()))),
                        Err(_) => {
                            let mut r = Response::new(Body::from("bad body\n"));
                            *r.status_mut() = StatusCode::BAD_REQUEST;
                            r
                        }
                    }
                }
                "/echo" => Response::new(req.into_body()),
                _ => Response::new(Body::from("hello\n")),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_http11_bodies_are_errors_the_handler_sees_never_hangs() {
    bounded(async {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let addr = serve(Config::server(), collecting_handler(seen_tx)).await;
        let cases: [(&str, &[u8]); 2] = [
            (
                "chunked without the 0-chunk",
                b"POST /collect HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            ),
            (
                "10 of 1000 Content-Length bytes",
                b"POST /collect HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n0123456789",
            ),
        ];
        for (what, request) in cases {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(request).await.expect("write");
            // The client's side ends here: EOF in the middle of the body.
            s.shutdown().await.expect("shutdown write");
            let result = timeout(PROMPTLY, seen.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: the handler saw nothing within {PROMPTLY:?}"))
                .expect("handler result");
            assert!(result.is_err(), "{what}: the handler got a complete body: {result:?}");
            let answer = read_to_eof(&mut s).await;
            // If it answered, not with a success: the request was never whole.
            let text = String::from_utf8_lossy(&answer);
            assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 4"),
                "{what}: {text:?}"
            );
        }

        // Streamed back as it arrives: the response starts, then cannot be completed, so it
        // must end without the terminating 0-chunk (never look complete).
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        )
        .await
        .expect("write");
        s.shutdown().await.expect("shutdown write");
        let answer = read_to_eof(&mut s).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            !text.ends_with("0\r\n\r\n"),
            "a truncated echo ended like a complete message: {text:?}"
        );

        still_serves_http11(addr).await;
        still_serves_http2(addr).await;
    })
    .await;
}

/// Resident memory of this process, from /proc (None elsewhere).
fn rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A handler whose /big streams `TOTAL` bytes in 16 KiB chunks, counting what it produced,
/// and reporting on `done` how the producer ended.
const TOTAL: usize = 100_000_000;

fn big_handler(
    produced: Arc<AtomicUsize>,
    done: mpsc::UnboundedSender<Result<(), String>>,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + Send>>
       + Send
       + Sync
       + 'static {
    move |req: Request<Body>| {
        let produced = produced.clone();
        let done = done.clone();
        Box::pin(async move {
            if req.uri().path() != "/big" {
                return Response::new(Body::from("hello\n"));
            }
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'x'; 16 * 1024]);
                let mut sent = 0;
                while sent < TOTAL {
                    if let Err(e) = tx.send_data(chunk.clone()).await {
                        let _ = done.send(Err(e.to_string()));
                        return;
                    }
                    sent += chunk.len();
                    produced.store(sent, Ordering::SeqCst);
                }
                let _ = done.send(Ok(()));
            });
            Response::new(body)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_stops_reading_is_not_buffered_and_is_freed_when_it_leaves() {
    bounded(async {
        let produced = Arc::new(AtomicUsize::new(0));
        let (done_tx, mut done) = mpsc::unbounded_channel();
        let addr = serve(Config::server(), big_handler(produced.clone(), done_tx)).await;
        let rss_before = rss_bytes();

        // HTTP/2: hyperium's client with the default 65,535-byte windows, reading the response
        // head and then nothing: the server may send one window's worth and no more.
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (send, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let conn_task = tokio::spawn(conn);
        let mut send = send.ready().await.expect("ready");
        let req = Request::get(format!("http://{addr}/big"))
            .body(())
            .expect("request");
        let (resp, _stream) = send.send_request(req, true).expect("send request");
        let resp = timeout(PROMPTLY, resp)
            .await
            .expect("response head in time")
            .expect("response head");
        assert_eq!(resp.status(), StatusCode::OK);
        let unread_body = resp.into_body();
        sleep(Duration::from_millis(1000)).await;
        let stalled_at = produced.load(Ordering::SeqCst);
        println!("HTTP/2: the producer stalled after {stalled_at} bytes");
        // Window (64 KiB) + the body channel (4 chunks) + a chunk or two in hand.
        assert!(
            stalled_at <= 1 << 20,
            "the handler produced {stalled_at} bytes for a client that read 0"
        );
        sleep(Duration::from_millis(300)).await;
        assert_eq!(
            produced.load(Ordering::SeqCst),
            stalled_at,
            "the producer is not stalled"
        );
        // Meanwhile other connections are served.
        still_serves_http2(addr).await;
        still_serves_http11(addr).await;
        if let (Some(before), Some(after)) = (rss_before, rss_bytes()) {
            println!("RSS {} MB -> {} MB", before >> 20, after >> 20);
            assert!(
                after < before + (50 << 20),
                "RSS grew from {before} to {after} bytes"
            );
        }
        // The client leaves: the server frees the stream, so the producer learns it.
        drop(unread_body);
        drop(send);
        conn_task.abort();
        let ended = timeout(PROMPTLY, done.recv())
            .await
            .expect("the producer was not released after the client left")
            .expect("producer result");
        assert!(ended.is_err(), "the body was not cut: {ended:?}");

        // HTTP/1.1: a raw socket that never reads. TCP backpressure stops the server once the
        // socket buffers (a few MB on loopback) are full.
        produced.store(0, Ordering::SeqCst);
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        sleep(Duration::from_millis(1000)).await;
        let stalled_at = produced.load(Ordering::SeqCst);
        println!("HTTP/1.1: the producer stalled after {stalled_at} bytes");
        assert!(
            stalled_at < 32 << 20,
            "the handler produced {stalled_at} bytes for an HTTP/1.1 client that read 0"
        );
        still_serves_http2(addr).await;
        drop(s);
        let ended = timeout(PROMPTLY, done.recv())
            .await
            .expect("the HTTP/1.1 producer was not released after the client left")
            .expect("producer result");
        assert!(ended.is_err(), "the body was not cut: {ended:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reading_handler_stops_the_clients_upload_by_flow_control() {
    bounded(async {
        const WINDOW: usize = 256 * 1024;
        const CHUNK: usize = 16 * 1024;
        const UPLOAD: usize = 4 << 20;
        let go = Arc::new(Notify::new());
        let mut config = Config::server();
        config.settings.initial_window_size = WINDOW as u32;
        let handler = {
            let go = go.clone();
            move |req: Request<Body>| {
                let go = go.clone();
                async move {
                    // Reads nothing until told to: the body's bytes pile up unreleased.
                    go.notified().await;
                    let n = req.into_body().bytes().await.map_or(0, |b| b.len());
                    Response::new(Body::from(n.to_string()))
                }
            }
        };
        let addr = serve(config, handler).await;
        let client = Client::connect(addr).await.expect("connect");
        let (mut tx, body) = Body::channel();
        let req = Request::post(format!("http://{addr}/upload"))
            .body(body)
            .expect("request");
        let response = {
            let client = client.clone();
            tokio::spawn(async move { client.send(req).await })
        };
        // Send until a chunk waits for half a second: the windows are spent.
        let chunk = Bytes::from(vec![b'u'; CHUNK]);
        let mut sent = 0;
        while sent < UPLOAD {
            match timeout(Duration::from_millis(500), tx.send_data(chunk.clone())).await {
                Ok(r) => {
                    r.expect("send chunk");
                    sent += CHUNK;
                }
                Err(_) => break,
            }
        }
        // The stream window, plus what waits in the client's body channel (4 chunks) and a
        // chunk or two in hand: never the whole upload.
        assert!(
            sent <= WINDOW + 8 * CHUNK,
            "sent {sent} bytes to a handler that read nothing (window {WINDOW})"
        );
        assert!(
            sent >= WINDOW / 2,
            "sent only {sent} bytes: the window was not used"
        );
        println!("blocked after {sent} bytes (stream window {WINDOW})");

        // The handler reads: the rest flows.
        go.notify_one();
        while sent < UPLOAD {
            timeout(PROMPTLY, tx.send_data(chunk.clone()))
                .await
                .expect("upload resumes once the handler reads")
                .expect("send chunk");
            sent += CHUNK;
        }
        drop(tx);
        let resp = timeout(PROMPTLY, response)
            .await
            .expect("response in time")
            .expect("task")
            .expect("response");
        let body = resp.into_body().bytes().await.expect("body");
        assert_eq!(body, UPLOAD.to_string());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_opens_new_connections_when_max_concurrent_streams_is_reached() {
    bounded(async {
        let mut config = Config::server();
        config.settings.max_concurrent_streams = Some(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let handler = {
            let running = running.clone();
            let most = most.clone();
            move |_req: Request<Body>| {
                let running = running.clone();
                let most = most.clone();
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    sleep(Duration::from_millis(800)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Response::new(Body::from("slow\n"))
                }
            }
        };
        let addr = serve(config, handler).await;
        let client = Client::connect(addr).await.expect("connect");
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let req = Request::get(format!("http://{addr}/slow/{i}"))
                    .body(Body::empty())
                    .expect("request");
                let resp = client.send(req).await.expect("response");
                assert_eq!(resp.status(), StatusCode::OK);
                resp.into_body().bytes().await.expect("body")
            }));
        }
        for task in tasks {
            let body = timeout(PROMPTLY, task)
                .await
                .expect("response in time")
                .expect("request task");
            assert_eq!(&body[..], b"slow\n");
        }
        let connections = client.connections();
        println!(
            "6 requests over {connections} connections in {:?}, at most {} at once",
            started.elapsed(),
            most.load(Ordering::SeqCst)
        );
        assert!(
            connections >= 3,
            "6 concurrent requests with 2 streams per connection went over {connections} connections"
        );
        assert_eq!(most.load(Ordering::SeqCst), 6, "they did not run at once");
        client.shutdown();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_the_request_in_flight_and_refuses_new_ones() {
    bounded(async {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let started = Arc::new(Notify::new());
        let handler = {
            let started = started.clone();
            move |req: Request<Body>| {
                let started = started.clone();
                async move {
                    if req.uri().path() == "/slow" {
                        started.notify_one();
                        sleep(Duration::from_millis(1500)).await;
                        return Response::new(Body::from("slow done\n"));
                    }
                    Response::new(Body::from("hello\n"))
                }
            }
        };
        let server = Server::bind("127.0.0.1:0")
            .await
            .expect("bind")
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            });
        let addr = server.local_addr().expect("local addr");
        let serving = tokio::spawn(server.serve(handler));

        // One connection through the lower-level handshake, so "new request" means this one.
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (conn, _pushes, driver) = h2_tokio::client::handshake(tcp, Config::client());
        let driver = tokio::spawn(driver);
        let in_flight = {
            let conn = conn.clone();
            tokio::spawn(async move {
                let req = Request::get(format!("http://{addr}/slow"))
                    .body(Body::empty())
                    .expect("request");
                let resp = conn.send(req).await?;
                let status = resp.status();
                let body = resp.into_body().bytes().await?;
                Ok::<_, h2_tokio::Error>((status, body))
            })
        };
        timeout(PROMPTLY, started.notified())
            .await
            .expect("the slow request reached the handler");
        let shutdown_at = Instant::now();
        stop_tx.send(()).expect("signal");

        // The client learns of the shutdown (GOAWAY) while the slow request still runs.
        let deadline = Instant::now() + PROMPTLY;
        while !conn.is_closing() {
            assert!(Instant::now() < deadline, "no GOAWAY reached the client");
            sleep(Duration::from_millis(10)).await;
        }
        let req = Request::get(format!("http://{addr}/"))
            .body(Body::empty())
            .expect("request");
        let refused = timeout(PROMPTLY, conn.send(req))
            .await
            .expect("a new request after GOAWAY must fail at once, not hang");
        assert!(
            refused.is_err(),
            "a new request was served after shutdown: {refused:?}"
        );
        // New connections are refused while the request in flight finishes: the port closed.
        let connect = timeout(PROMPTLY, TcpStream::connect(addr))
            .await
            .expect("connect must fail at once, not hang");
        assert!(
            connect.is_err(),
            "a new connection was accepted after shutdown began"
        );

        let (status, body) = timeout(PROMPTLY, in_flight)
            .await
            .expect("the request in flight finished")
            .expect("task")
            .expect("the request in flight succeeded");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"slow done\n");
        timeout(Duration::from_secs(10), serving)
            .await
            .expect("serve() returned after the shutdown")
            .expect("task")
            .expect("serve");
        println!(
            "serve() returned {:?} after the signal",
            shutdown_at.elapsed()
        );
        let _ = timeout(PROMPTLY, driver).await;
    })
    .await;
}
