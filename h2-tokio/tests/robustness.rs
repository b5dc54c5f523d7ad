//! Bad and slow peers against the tokio adapter, in-process on 127.0.0.1 port 0: garbage instead
//! of a preface, truncated HTTP/1.1 bodies, a client that stops reading, a handler that reads
//! slowly, a server's MAX_CONCURRENT_STREAMS, graceful shutdown. In every case the server answers
//! with the right error, frees the connection and keeps serving others. Every wait is for an event
//! (a channel, a barrier, EOF) with a generous bound that only guards against hangs: CI shares two
//! cores, so nothing here asserts how long anything took.

use bytes::Bytes;
use h2_tokio::{Body, Client, Server};
use h2core::Config;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Barrier, Notify};
use tokio::time::{sleep, timeout};

/// Hang guard for each test.
const TEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Hang guard for each wait on something that must happen (a close, a response, a report): far
/// longer than any of them takes, so that only a hang trips it, never a slow machine.
const HANG_GUARD: Duration = Duration::from_secs(60);

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
    let resp = timeout(HANG_GUARD, client.send(req))
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

/// Everything the server sends until it closes the connection, with FIN: a reset would lose the
/// error the server sent last.
async fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let read = timeout(HANG_GUARD, s.read_to_end(&mut out)).await;
    match read {
        Err(_) => panic!(
            "the server did not close the connection within {HANG_GUARD:?}; got {} bytes: {:?}",
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
            let result = timeout(HANG_GUARD, seen.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: the handler saw nothing within {HANG_GUARD:?}"))
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

/// Sends `data` on `tx`, reporting on `blocked` how many bytes went before if the send has to
/// wait (the body's channel is full: backpressure reached the producer).
async fn send_reporting_waits(
    tx: &mut h2_tokio::BodySender,
    data: Bytes,
    sent: usize,
    blocked: &mpsc::UnboundedSender<usize>,
) -> Result<(), h2_tokio::Error> {
    let mut send = pin!(tx.send_data(data));
    let mut reported = false;
    std::future::poll_fn(|cx| {
        let poll = send.as_mut().poll(cx);
        if poll.is_pending() && !reported {
            reported = true;
            let _ = blocked.send(sent);
        }
        poll
    })
    .await
}

/// A handler whose /big streams `TOTAL` bytes in 16 KiB chunks, counting what it produced,
/// reporting on `blocked` each time a chunk has to wait and on `done` how the producer ended.
const TOTAL: usize = 100_000_000;

fn big_handler(
    produced: Arc<AtomicUsize>,
    blocked: mpsc::UnboundedSender<usize>,
    done: mpsc::UnboundedSender<Result<(), String>>,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + Send>>
       + Send
       + Sync
       + 'static {
    move |req: Request<Body>| {
        let produced = produced.clone();
        let blocked = blocked.clone();
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
                    let send = send_reporting_waits(&mut tx, chunk.clone(), sent, &blocked);
                    if let Err(e) = send.await {
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

/// Waits until the producer has to wait for the peer to read, failing if it produced the whole
/// body instead (nothing held it back); returns how many bytes it had produced then.
async fn first_wait(
    what: &str,
    blocked: &mut mpsc::UnboundedReceiver<usize>,
    done: &mut mpsc::UnboundedReceiver<Result<(), String>>,
) -> usize {
    let waited = timeout(HANG_GUARD, async {
        tokio::select! {
            at = blocked.recv() => at.expect("producer reports"),
            ended = done.recv() => panic!(
                "{what}: the producer never waited, it produced all {TOTAL} bytes ({ended:?})"
            ),
        }
    });
    waited
        .await
        .unwrap_or_else(|_| panic!("{what}: the producer neither waited nor finished"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_stops_reading_is_not_buffered_and_is_freed_when_it_leaves() {
    // What is bounded is the bytes the handler could produce, by the flow-control window and the
    // body channel: a behaviour, unlike this process's RSS, which other tests share.
    bounded(async {
        let produced = Arc::new(AtomicUsize::new(0));
        let (blocked_tx, mut blocked) = mpsc::unbounded_channel();
        let (done_tx, mut done) = mpsc::unbounded_channel();
        let handler = big_handler(produced.clone(), blocked_tx, done_tx);
        let addr = serve(Config::server(), handler).await;

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
        let resp = timeout(HANG_GUARD, resp)
            .await
            .expect("response head")
            .expect("response head");
        assert_eq!(resp.status(), StatusCode::OK);
        let unread_body = resp.into_body();
        // Window (64 KiB) + the body channel (4 chunks) + a chunk or two in hand.
        const H2_BOUND: usize = 1 << 20;
        let waited_at = first_wait("HTTP/2", &mut blocked, &mut done).await;
        println!("HTTP/2: the producer first waited after {waited_at} bytes");
        assert!(
            waited_at <= H2_BOUND,
            "the handler produced {waited_at} bytes for a client that read 0"
        );
        // Meanwhile other connections are served; the producer, which would go on if anything
        // but the window held it back, is still within the bound afterwards.
        still_serves_http2(addr).await;
        still_serves_http11(addr).await;
        let stalled_at = produced.load(Ordering::SeqCst);
        assert!(
            stalled_at <= H2_BOUND,
            "the handler produced {stalled_at} bytes for a client that read 0"
        );
        // The client leaves: the server frees the stream, so the producer learns it.
        drop(unread_body);
        drop(send);
        conn_task.abort();
        let ended = timeout(HANG_GUARD, done.recv())
            .await
            .expect("the producer was not released after the client left")
            .expect("producer result");
        assert!(ended.is_err(), "the body was not cut: {ended:?}");
        let total = produced.load(Ordering::SeqCst);
        assert!(total <= H2_BOUND, "produced {total} bytes before the cut");

        // HTTP/1.1: a raw socket that never reads. TCP backpressure stops the server once the
        // socket buffers (a few MB on loopback) are full.
        const H1_BOUND: usize = 32 << 20;
        produced.store(0, Ordering::SeqCst);
        while blocked.try_recv().is_ok() {}
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let waited_at = first_wait("HTTP/1.1", &mut blocked, &mut done).await;
        println!("HTTP/1.1: the producer first waited after {waited_at} bytes");
        still_serves_http2(addr).await;
        let stalled_at = produced.load(Ordering::SeqCst);
        assert!(
            stalled_at < H1_BOUND,
            "the handler produced {stalled_at} bytes for an HTTP/1.1 client that read 0"
        );
        drop(s);
        let ended = timeout(HANG_GUARD, done.recv())
            .await
            .expect("the HTTP/1.1 producer was not released after the client left")
            .expect("producer result");
        assert!(ended.is_err(), "the body was not cut: {ended:?}");
        let total = produced.load(Ordering::SeqCst);
        assert!(total < H1_BOUND, "produced {total} bytes before the cut");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reading_handler_stops_the_clients_upload_by_flow_control() {
    bounded(async {
        const WINDOW: usize = 256 * 1024;
        const CHUNK: usize = 16 * 1024;
        const UPLOAD: usize = 4 << 20;
        // The stream window, plus what waits in the client's body channel (4 chunks) and a
        // chunk or two in hand: never the whole upload.
        const BOUND: usize = WINDOW + 8 * CHUNK;
        let go = Arc::new(Notify::new());
        let mut config = Config::server();
        config.settings.initial_window_size = WINDOW as u32;
        let handler = {
            let go = go.clone();
            move |req: Request<Body>| {
                let go = go.clone();
                async move {
                    if req.uri().path() != "/upload" {
                        return Response::new(Body::from("hello\n"));
                    }
                    // Reads nothing until told to: the body's bytes pile up unreleased.
                    go.notified().await;
                    let n = req.into_body().bytes().await.map_or(0, |b| b.len());
                    Response::new(Body::from(n.to_string()))
                }
            }
        };
        let addr = serve(config, handler).await;
        let client = Client::connect(addr).await.expect("connect");
        let (tx, body) = Body::channel();
        let req = Request::post(format!("http://{addr}/upload"))
            .body(body)
            .expect("request");
        let response = {
            let client = client.clone();
            tokio::spawn(async move { client.send(req).await })
        };
        // The uploader reports each chunk that has to wait, and how much went before it.
        let sent = Arc::new(AtomicUsize::new(0));
        let (blocked_tx, mut blocked) = mpsc::unbounded_channel();
        let uploader = {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut tx = tx;
                let chunk = Bytes::from(vec![b'u'; CHUNK]);
                while sent.load(Ordering::SeqCst) < UPLOAD {
                    let at = sent.load(Ordering::SeqCst);
                    send_reporting_waits(&mut tx, chunk.clone(), at, &blocked_tx)
                        .await
                        .expect("send chunk");
                    sent.fetch_add(CHUNK, Ordering::SeqCst);
                }
            })
        };
        // Waits come and go while the client's connection drains the channel; one past the
        // window is the upload held back by it (the server sends no WINDOW_UPDATE).
        let waited_at = timeout(HANG_GUARD, async {
            loop {
                match blocked.recv().await {
                    Some(at) if at >= WINDOW => return at,
                    Some(_) => {}
                    None => panic!("the whole upload went to a handler that read nothing"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| {
            let at = sent.load(Ordering::SeqCst);
            panic!("the upload neither used its {WINDOW}-byte window nor ended (sent {at})")
        });
        assert!(
            waited_at <= BOUND,
            "sent {waited_at} bytes to a handler that read nothing (window {WINDOW})"
        );
        // A request on the same connection is served meanwhile, and the upload is still held.
        let resp = timeout(
            HANG_GUARD,
            client.send(
                Request::get(format!("http://{addr}/"))
                    .body(Body::empty())
                    .expect("request"),
            ),
        )
        .await
        .expect("a second request on the connection")
        .expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        let held_at = sent.load(Ordering::SeqCst);
        assert!(
            held_at <= BOUND,
            "sent {held_at} bytes to a handler that read nothing (window {WINDOW})"
        );
        println!("blocked after {held_at} bytes (stream window {WINDOW})");

        // The handler reads: the rest flows.
        go.notify_one();
        timeout(HANG_GUARD, uploader)
            .await
            .expect("upload resumes once the handler reads")
            .expect("uploader");
        let resp = timeout(HANG_GUARD, response)
            .await
            .expect("response")
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
        let all_six = Arc::new(Barrier::new(6));
        let handler = {
            let running = running.clone();
            let most = most.clone();
            move |_req: Request<Body>| {
                let running = running.clone();
                let most = most.clone();
                let all_six = all_six.clone();
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Answers once all six run at once: only more connections let that happen.
                    all_six.wait().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Response::new(Body::from("slow\n"))
                }
            }
        };
        let addr = serve(config, handler).await;
        let client = Client::connect(addr).await.expect("connect");
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
            let body = timeout(HANG_GUARD, task)
                .await
                .unwrap_or_else(|_| {
                    let running = running.load(Ordering::SeqCst);
                    panic!("the 6 requests never ran at once ({running} did)")
                })
                .expect("request task");
            assert_eq!(&body[..], b"slow\n");
        }
        let connections = client.connections();
        println!(
            "6 requests over {connections} connections, at most {} at once",
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
        // The slow request runs until the test has checked what happens meanwhile.
        let release = Arc::new(Notify::new());
        let handler = {
            let started = started.clone();
            let release = release.clone();
            move |req: Request<Body>| {
                let started = started.clone();
                let release = release.clone();
                async move {
                    if req.uri().path() == "/slow" {
                        started.notify_one();
                        release.notified().await;
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
        timeout(HANG_GUARD, started.notified())
            .await
            .expect("the slow request reached the handler");
        stop_tx.send(()).expect("signal");

        // The client learns of the shutdown (GOAWAY) while the slow request still runs. The
        // client has no event for it: polled, with the bound only as a hang guard.
        timeout(HANG_GUARD, async {
            while !conn.is_closing() {
                sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("no GOAWAY reached the client");
        let req = Request::get(format!("http://{addr}/"))
            .body(Body::empty())
            .expect("request");
        let refused = timeout(HANG_GUARD, conn.send(req))
            .await
            .expect("a new request after GOAWAY must fail at once, not hang");
        assert!(
            refused.is_err(),
            "a new request was served after shutdown: {refused:?}"
        );
        // New connections are refused while the request in flight finishes: the port closed.
        let connect = timeout(HANG_GUARD, TcpStream::connect(addr))
            .await
            .expect("connect must fail at once, not hang");
        assert!(
            connect.is_err(),
            "a new connection was accepted after shutdown began"
        );

        // Only now may the request in flight finish: a refusal that waited for it would have
        // hung above.
        release.notify_one();
        let (status, body) = timeout(HANG_GUARD, in_flight)
            .await
            .expect("the request in flight finished")
            .expect("task")
            .expect("the request in flight succeeded");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"slow done\n");
        timeout(HANG_GUARD, serving)
            .await
            .expect("serve() returned after the shutdown")
            .expect("task")
            .expect("serve");
        let _ = timeout(HANG_GUARD, driver).await;
    })
    .await;
}
