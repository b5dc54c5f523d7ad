//! One API on every runtime: the user-facing API's tests, written once and compiled against
//! each adapter (h2-tokio, h2-async-std, h2-mio) by [`api_tests!`](crate::api_tests), as rustls
//! compiles one test module per backend. The adapters differ only in being async or blocking,
//! so a test body writes every call that may wait as `aw!(call)`, which becomes `call.await`
//! or `call`; the rest are the same names with the same arguments and results.
//!
//! An adapter's `tests/api.rs` is the macro call; an async adapter names its runtime (tasks
//! start on it through [`spawn`]) and how a test's future is run to completion on it:
//!
//! ```text
//! h2_testkit::api_tests!(
//!     mode: async,
//!     adapter: h2_tokio,
//!     runtime: h2_tokio::Tokio,
//!     block_on: h2_testkit::engine::on_tokio,
//! );
//! // or, blocking: h2_testkit::api_tests!(mode: blocking, adapter: h2_mio);
//! ```
//!
//! The helper macros a test body uses, per mode:
//!
//! | helper | async | blocking |
//! |---|---|---|
//! | `aw!(e)` | `e.await` | `e` |
//! | `handler!([captures] \|req\| body)` | `move \|req\| { clones; async move body }` | `move \|req\| body` |
//! | `spawn_task!(body)` | [`spawn`]`::<runtime>(async move body)` | `std::thread::spawn(move \|\| body)` |
//! | `join_task!(h)` | `h.await` | `h.join()` |
//! | `block_on!(body)` | `block_on(async move body)` | `body` |
//!
//! Every test serves on 127.0.0.1 port 0 (tests run in parallel), ends its server through
//! `Server::shutdown_handle` and checks that `serve` returned, and runs under [`bounded`]: a
//! test that hangs fails after [`TEST_BOUND`] instead of hanging the run. Nothing asserts on
//! timing.

use std::time::Duration;

pub use bytes;
pub use http;

/// Upper bound for one API test; a healthy one takes well under a second.
pub const TEST_BOUND: Duration = Duration::from_secs(60);

/// Runs `test` on a thread of its own and waits for it at most [`TEST_BOUND`]: its panic is
/// this test's failure, and so is running longer.
pub fn bounded(test: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        test();
        let _ = tx.send(());
    });
    match rx.recv_timeout(TEST_BOUND) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: fail with its message.
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test did not finish within {TEST_BOUND:?}")
        }
    }
}

/// Starts `f` now on the runtime `R`; the returned future gives its output (a panic in `f`
/// fails the test that awaits it): `spawn_task!` of the async adapters' API tests.
pub fn spawn<R, F>(f: F) -> impl std::future::Future<Output = F::Output>
where
    R: h2_async::rt::Runtime,
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    R::spawn(async move {
        let _ = tx.send(f.await);
    });
    async move { rx.await.expect("task panicked") }
}

/// A GET for `path` on `addr`.
pub fn get<B: Default>(scheme: &str, addr: std::net::SocketAddr, path: &str) -> http::Request<B> {
    http::Request::get(format!("{scheme}://{addr}{path}"))
        .body(B::default())
        .expect("request")
}

/// Sends `request` over a blocking HTTP/1.1 connection and reads until the server closes it.
pub fn http1_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(TEST_BOUND)).expect("timeout");
    socket.write_all(request.as_bytes()).expect("write");
    let mut got = Vec::new();
    socket.read_to_end(&mut got).expect("read");
    String::from_utf8_lossy(&got).into_owned()
}

/// Writes `request` on a new TCP connection and reads until the server closes it.
pub fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(TEST_BOUND)).expect("timeout");
    socket.write_all(request).expect("write");
    let mut got = Vec::new();
    // A reset after the server's last bytes still leaves them in `got`.
    let _ = socket.read_to_end(&mut got);
    got
}

/// What [`priority_peer`] saw of the client's request and its reprioritization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrioritySeen {
    /// The request's stream and its `priority` header field (RFC 9218 §5), if any.
    pub request: (u32, Option<String>),
    /// Each PRIORITY_UPDATE frame (RFC 9218 §7.1): the prioritized stream and the field value.
    pub updates: Vec<(u32, String)>,
}

/// A raw HTTP/2 server on 127.0.0.1 port 0 for one client connection, run on a thread of its
/// own and written frame by frame (no library of ours between the wire and the test): it
/// announces SETTINGS_NO_RFC7540_PRIORITIES = 1 (RFC 9218 §2.1, so a client uses RFC 9218's
/// signals), acknowledges the client's SETTINGS, answers the first request with a `200` head
/// and never ends its body, records every PRIORITY_UPDATE frame, answers PINGs, and returns
/// what it saw at the first PING after a PRIORITY_UPDATE (a client's `ping()` after its
/// `reprioritize` is then answered only once the update was read). Every read is bounded by
/// [`TEST_BOUND`].
pub fn priority_peer() -> (std::net::SocketAddr, std::thread::JoinHandle<PrioritySeen>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let peer = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        socket.set_read_timeout(Some(TEST_BOUND)).expect("timeout");
        let mut preface = [0u8; 24];
        socket.read_exact(&mut preface).expect("preface");
        assert_eq!(&preface, h2core::preface::PREFACE, "the client's preface");
        let frame = |kind: u8, flags: u8, stream: u32, payload: &[u8]| {
            let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
            f.extend_from_slice(&[kind, flags]);
            f.extend_from_slice(&stream.to_be_bytes());
            f.extend_from_slice(payload);
            f
        };
        // SETTINGS_NO_RFC7540_PRIORITIES (0x9) = 1.
        let settings = frame(0x4, 0, 0, &[0, 0x9, 0, 0, 0, 1]);
        socket.write_all(&settings).expect("settings");
        let mut hpack = h2core::hpack::Decoder::new(4096);
        let mut seen = PrioritySeen {
            request: (0, None),
            updates: Vec::new(),
        };
        loop {
            let mut head = [0u8; 9];
            socket.read_exact(&mut head).expect("a frame head");
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let (kind, flags) = (head[3], head[4]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            socket.read_exact(&mut payload).expect("a frame payload");
            match kind {
                // SETTINGS, not an ACK: acknowledge it.
                0x4 if flags & 0x1 == 0 => {
                    socket.write_all(&frame(0x4, 0x1, 0, &[])).expect("ack");
                }
                // HEADERS (END_HEADERS expected: a small head): answer `:status: 200` (static
                // table index 8), no END_STREAM.
                0x1 if seen.request.0 == 0 => {
                    let mut block = &payload[..];
                    if flags & 0x8 != 0 {
                        let pad = block[0] as usize;
                        block = &block[1..block.len() - pad];
                    }
                    if flags & 0x20 != 0 {
                        block = &block[5..];
                    }
                    let mut priority = None;
                    hpack
                        .decode(&bytes::Bytes::copy_from_slice(block), |h| {
                            if h.name == "priority".as_bytes() {
                                priority = Some(String::from_utf8_lossy(&h.value).into_owned());
                            }
                        })
                        .expect("the request's header block");
                    seen.request = (stream, priority);
                    socket
                        .write_all(&frame(0x1, 0x4, stream, &[0x88]))
                        .expect("response head");
                }
                // PRIORITY_UPDATE: the prioritized stream, then the field value.
                0x10 => {
                    let id = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                        & 0x7fff_ffff;
                    let value = String::from_utf8_lossy(&payload[4..]).into_owned();
                    seen.updates.push((id, value));
                }
                // PING, not an ACK.
                0x6 if flags & 0x1 == 0 => {
                    socket
                        .write_all(&frame(0x6, 0x1, 0, &payload))
                        .expect("pong");
                    if !seen.updates.is_empty() {
                        return seen;
                    }
                }
                _ => {}
            }
        }
    });
    (addr, peer)
}

/// The error code of the first GOAWAY among the HTTP/2 frames in `bytes` (RFC 9113 §6.8).
pub fn goaway_code(mut bytes: &[u8]) -> Option<u32> {
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        let payload = bytes.get(9..9 + len)?;
        if bytes[3] == 0x7 && len >= 8 {
            return Some(u32::from_be_bytes(payload[4..8].try_into().ok()?));
        }
        bytes = &bytes[9 + len..];
    }
    None
}

/// Trailers with one field.
pub fn trailers(name: &'static str, value: &'static str) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    map.insert(name, http::HeaderValue::from_static(value));
    map
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_await {
    ($e:expr) => {
        $e.await
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_now {
    ($e:expr) => {
        $e
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_handler_async {
    ([$($cap:ident),*] |$req:ident| $body:block) => {
        move |$req| {
            $(let $cap = $cap.clone();)*
            async move $body
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_handler_blocking {
    ([$($cap:ident),*] |$req:ident| $body:block) => {
        move |$req| $body
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_spawn_async {
    ($body:block) => {
        rt::spawn(async move $body)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_spawn_blocking {
    ($body:block) => {
        std::thread::spawn(move || $body)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_join_async {
    ($h:expr) => {
        $h.await
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_join_blocking {
    ($h:expr) => {
        $h.join().expect("task panicked")
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_block_on_async {
    ($body:block) => {
        $crate::api::bounded(move || rt::block_on(async move $body))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __api_block_on_blocking {
    ($body:block) => {
        $crate::api::bounded(move || $body)
    };
}

/// The API tests for one adapter: `api_tests!(mode: async, adapter: h2_tokio, runtime:
/// h2_tokio::Tokio, block_on: h2_testkit::engine::on_tokio)` or `api_tests!(mode: blocking,
/// adapter: h2_mio)`. See [the module](crate::api).
#[macro_export]
macro_rules! api_tests {
    (mode: async, adapter: $a:ident, runtime: $rt:ty, block_on: $block_on:path $(,)?) => {
        /// The runtime glue of `spawn_task!` and `block_on!`.
        mod rt {
            pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
                $block_on(f)
            }

            pub fn spawn<F>(f: F) -> impl std::future::Future<Output = F::Output>
            where
                F: std::future::Future + Send + 'static,
                F::Output: Send + 'static,
            {
                $crate::api::spawn::<$rt, F>(f)
            }
        }
        #[allow(unused_imports)]
        use $crate::{
            __api_await as aw, __api_block_on_async as block_on, __api_handler_async as handler,
            __api_join_async as join_task, __api_spawn_async as spawn_task,
        };
        $crate::__api_test_list!($a);
    };
    (mode: blocking, adapter: $a:ident $(,)?) => {
        #[allow(unused_imports)]
        use $crate::{
            __api_block_on_blocking as block_on, __api_handler_blocking as handler,
            __api_join_blocking as join_task, __api_now as aw, __api_spawn_blocking as spawn_task,
        };
        $crate::__api_test_list!($a);
    };
}

/// The test bodies, written once (see [`api_tests!`](crate::api_tests)).
#[doc(hidden)]
#[macro_export]
macro_rules! __api_test_list {
    ($a:ident) => {
        mod api {
            #![allow(clippy::redundant_clone, unused_mut, unused_imports)]
            use super::*;
            use $a::{Body, BodySender, Client, Config, Error, Frame, OnInformational, Reason};
            use $a::{ConnectionInfo, RequestTimeout};
            use $a::{Server, ShutdownHandle, StreamHandle};
            use $crate::api::bytes::Bytes;
            use $crate::api::http::{Request, Response, StatusCode};
            use $crate::api::{get, goaway_code, raw_exchange, trailers};
            use std::sync::{Arc, Mutex};

            /// Serves `handler` on `server` (bound to port 0): its address, its shutdown handle
            /// and the task that runs `serve`.
            macro_rules! serving {
                ($server:expr, $handler:expr) => {{
                    let server = $server;
                    let addr = server.local_addr().expect("local_addr");
                    let shutdown = server.shutdown_handle();
                    let served = spawn_task!({ aw!(server.serve($handler)) });
                    (addr, shutdown, served)
                }};
            }

            /// Shuts the server down and checks that `serve` returned.
            macro_rules! stop {
                ($shutdown:ident, $served:ident) => {
                    $shutdown.shutdown();
                    join_task!($served).expect("serve");
                };
            }

            /// `ShutdownHandle` is a plain value shared across threads.
            fn _shutdown_handle_is_send_sync_clone(h: &ShutdownHandle) -> impl Send + Sync + Clone {
                h.clone()
            }

            #[test]
            fn shutdown_handle_stops_serve_after_the_request_in_flight_completes() {
                block_on!({
                    let server = aw!(Server::bind("127.0.0.1:0"))
                        .expect("bind")
                        .config(Config::server());
                    let addr = server.local_addr().expect("local_addr");
                    let shutdown = server.shutdown_handle();
                    // The handler answers at once with a body the test finishes later.
                    let slot: Arc<Mutex<Option<BodySender>>> = Arc::default();
                    let held = slot.clone();
                    let served = spawn_task!({
                        aw!(server.serve(handler!([held] |_req| {
                            let (tx, body) = Body::channel();
                            *held.lock().unwrap() = Some(tx);
                            Response::new(body)
                        })))
                    });
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/slow"))).expect("head");
                    assert_eq!(response.status(), StatusCode::OK);
                    // In flight: head sent, body open. Shut down now, then finish it.
                    shutdown.shutdown();
                    let mut tx = slot.lock().unwrap().take().expect("the handler ran");
                    aw!(tx.send_data(Bytes::from_static(b"done"))).expect("send_data");
                    drop(tx);
                    let body = aw!(response.into_body().bytes()).expect("body");
                    assert_eq!(&body[..], b"done");
                    aw!(client.close());
                    join_task!(served).expect("serve returns after the shutdown");
                    // The port is closed: nothing is served any more.
                    assert!(aw!(Client::connect(addr)).is_err());
                })
            }

            #[test]
            fn shutdown_before_serve_makes_serve_return() {
                block_on!({
                    let server = aw!(Server::bind("127.0.0.1:0")).expect("bind");
                    server.shutdown_handle().shutdown();
                    aw!(server.serve(handler!([] |_req| { Response::new(Body::empty()) })))
                        .expect("serve");
                })
            }

            #[test]
            fn client_connect_with_sends_many_and_closes() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        Response::new(Body::from(req.uri().path().to_owned()))
                    })
                    );
                    let client = aw!(Client::connect_with(addr, Config::client())).expect("connect");
                    for path in ["/a", "/b", "/c"] {
                        let response = aw!(client.send(get("http", addr, path))).expect("send");
                        assert_eq!(response.status(), StatusCode::OK);
                        let body = aw!(response.into_body().bytes()).expect("body");
                        assert_eq!(&body[..], path.as_bytes());
                    }
                    let shorter = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(shorter.send(get("http", addr, "/d"))).expect("send");
                    assert_eq!(aw!(response.into_body().bytes()).expect("body"), "/d");
                    assert_eq!(client.connections(), 1);
                    let stats = client.stats();
                    assert_eq!(stats.connections_opened, 1);
                    assert!(stats.header_bytes_sent > 0);
                    assert_eq!(stats.retries, 0);
                    aw!(client.close());
                    aw!(shorter.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn streamed_request_body_is_echoed_while_it_is_read() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        let mut request_body = req.into_body();
                        let (mut tx, body) = Body::channel();
                        // Detached: it ends with the request body.
                        let _ = spawn_task!({
                            while let Some(chunk) = aw!(request_body.data()) {
                                let chunk = chunk.expect("request chunk");
                                if aw!(tx.send_data(chunk)).is_err() {
                                    break;
                                }
                            }
                        });
                        Response::new(body)
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let (mut tx, body) = Body::channel();
                    let request = Request::post(format!("http://{addr}/echo"))
                        .body(body)
                        .expect("request");
                    let response = aw!(client.send(request)).expect("head");
                    let mut echoed = response.into_body();
                    // Lockstep: each chunk comes back before the next is sent.
                    for chunk in ["one", "two", "three"] {
                        aw!(tx.send_data(Bytes::from_static(chunk.as_bytes()))).expect("send");
                        let back = aw!(echoed.data()).expect("a chunk").expect("chunk");
                        assert_eq!(&back[..], chunk.as_bytes());
                    }
                    drop(tx);
                    assert!(aw!(echoed.data()).is_none(), "the echo ends with the request");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn trailers_go_both_ways() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        let (data, got) = aw!(req.into_body().collect()).expect("collect");
                        let got = got.expect("request trailers");
                        assert_eq!(got["x-client"], "1");
                        let (mut tx, body) = Body::channel();
                        aw!(tx.send_data(data)).expect("send_data");
                        aw!(tx.send_trailers(trailers("x-server", "2"))).expect("trailers");
                        Response::new(body)
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let (mut tx, body) = Body::channel();
                    aw!(tx.send_data(Bytes::from_static(b"payload"))).expect("send_data");
                    aw!(tx.send_trailers(trailers("x-client", "1"))).expect("trailers");
                    let request = Request::post(format!("http://{addr}/trailers"))
                        .body(body)
                        .expect("request");
                    let response = aw!(client.send(request)).expect("head");
                    let mut body = response.into_body();
                    let mut data = Vec::new();
                    let mut seen = None;
                    while let Some(frame) = aw!(body.frame()) {
                        match frame.expect("frame") {
                            Frame::Data(d) => data.extend_from_slice(&d),
                            Frame::Trailers(t) => seen = Some(t),
                        }
                    }
                    assert_eq!(data, b"payload");
                    assert_eq!(seen.expect("response trailers")["x-server"], "2");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn http2_only_serves_h2_and_answers_http1_with_a_protocol_error() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind").http2_only(),
                        handler!([] |_req| { Response::new(Body::from("ok")) })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/"))).expect("h2");
                    assert_eq!(response.status(), 200);
                    aw!(client.close());
                    // No HTTP/1.1 on this port: the request line is a bad preface, a
                    // connection error of type PROTOCOL_ERROR (RFC 9113 §3.4).
                    let got = raw_exchange(addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
                    assert!(!got.starts_with(b"HTTP/1.1"), "{got:?}");
                    assert_eq!(goaway_code(&got), Some(0x1), "{got:?}");
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn a_body_of_trailers_only_goes_in_the_response_head() {
                // gRPC's trailers-only response (an error before any message): one HEADERS
                // frame with END_STREAM, so the client finds the fields in the head and an
                // empty body, without content-length (RFC 9113 §8.1).
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |_req| {
                        let (tx, body) = Body::channel();
                        aw!(tx.send_trailers(trailers("grpc-status", "7"))).expect("trailers");
                        Response::new(body)
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/denied"))).expect("head");
                    assert_eq!(response.headers()["grpc-status"], "7");
                    assert!(response.headers().get("content-length").is_none());
                    let (data, trailers) = aw!(response.into_body().collect()).expect("body");
                    assert!(data.is_empty() && trailers.is_none(), "{data:?} {trailers:?}");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn an_empty_body_ends_in_the_head_without_content_length() {
                // What tonic answers for a Status error: grpc-status in the head and an empty
                // body, which must go as gRPC's trailers-only response (one HEADERS frame with
                // END_STREAM, no content-length).
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |_req| {
                        let mut response = Response::new(Body::empty());
                        response
                            .headers_mut()
                            .insert("grpc-status", $crate::api::http::HeaderValue::from_static("12"));
                        response
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/nothing"))).expect("head");
                    assert_eq!(response.headers()["grpc-status"], "12");
                    assert!(
                        response.headers().get("content-length").is_none(),
                        "{:?}",
                        response.headers()
                    );
                    let (data, trailers) = aw!(response.into_body().collect()).expect("body");
                    assert!(data.is_empty() && trailers.is_none(), "{data:?} {trailers:?}");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn a_grpc_timeout_reaches_the_handler_as_a_deadline() {
                // gRPC's `grpc-timeout` becomes a Deadline in the request's extensions, no
                // later than arrival + timeout; none without one, or with a malformed one.
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        let seen = match req.extensions().get::<$a::Deadline>() {
                            Some(d) if d.remaining(std::time::Instant::now())
                                <= std::time::Duration::from_secs(60) => "deadline",
                            Some(_) => "too late a deadline",
                            None => "none",
                        };
                        Response::new(Body::from(seen))
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let cases = [(Some("60S"), "deadline"), (None, "none"), (Some("1x"), "none")];
                    for (timeout, want) in cases {
                        let mut req = Request::post(format!("http://{addr}/svc/Method"));
                        if let Some(timeout) = timeout {
                            req = req.header("grpc-timeout", timeout);
                        }
                        let req = req.body(Body::empty()).expect("request");
                        let response = aw!(client.send(req)).expect("response");
                        let body = aw!(response.into_body().bytes()).expect("body");
                        assert_eq!(&body[..], want.as_bytes(), "grpc-timeout {timeout:?}");
                    }
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn body_sender_abort_reaches_the_client_as_a_reset_with_its_reason() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |_req| {
                        let (mut tx, body) = Body::channel();
                        aw!(tx.send_data(Bytes::from_static(b"partial"))).expect("send");
                        aw!(tx.abort(Reason::ENHANCE_YOUR_CALM)).expect("abort");
                        Response::new(body)
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/abort"))).expect("head");
                    let mut body = response.into_body();
                    let err = loop {
                        match aw!(body.frame()) {
                            Some(Ok(_)) => continue,
                            Some(Err(e)) => break e,
                            None => panic!("the body ended instead of being reset"),
                        }
                    };
                    assert!(
                        matches!(err, Error::Reset(r) if r == Reason::ENHANCE_YOUR_CALM),
                        "{err:?}"
                    );
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn a_client_reprioritizes_a_request_in_flight_with_priority_update() {
                block_on!({
                    let (addr, peer) = $crate::api::priority_peer();
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let mut request = get("http", addr, "/big");
                    request.extensions_mut().insert($a::Priority {
                        urgency: 5,
                        incremental: false,
                    });
                    let response = aw!(client.send(request)).expect("head");
                    assert_eq!(response.status(), StatusCode::OK);
                    // Its body is still coming: make it urgent and incremental.
                    let handle = response
                        .extensions()
                        .get::<$a::RequestHandle>()
                        .cloned()
                        .expect("a RequestHandle in the response");
                    let update = $a::Priority {
                        urgency: 1,
                        incremental: true,
                    };
                    aw!(handle.reprioritize(update)).expect("reprioritize");
                    // Answered once the peer read what was sent before it.
                    aw!(client.ping()).expect("ping");
                    let seen = peer.join().expect("the peer");
                    let stream = handle.stream_id().value();
                    assert_eq!(seen.request, (stream, Some("u=5".to_owned())));
                    assert_eq!(seen.updates, vec![(stream, "u=1, i".to_owned())]);
                    drop(response);
                    aw!(client.close());
                })
            }

            #[test]
            fn ping_and_connection_info_on_both_sides() {
                block_on!({
                    let mut config = Config::server();
                    config.settings.max_concurrent_streams = Some(77);
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind").config(config),
                        handler!([] |req| {
                        let stream = StreamHandle::of(&req).expect("handle");
                        let info: ConnectionInfo = aw!(stream.connection_info()).expect("info");
                        // What the client announced, and this request counted.
                        Response::new(Body::from(format!(
                            "{} {}",
                            info.peer_settings.initial_window_size,
                            info.stats.streams_opened
                        )))
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let response = aw!(client.send(get("http", addr, "/info"))).expect("send");
                    let body = aw!(response.into_body().bytes()).expect("body");
                    let window = Config::client().settings.initial_window_size;
                    assert_eq!(body, format!("{window} 1"));
                    aw!(client.ping()).expect("a PING round trip");
                    let infos = aw!(client.connection_info()).expect("info");
                    assert_eq!(infos.len(), 1);
                    let info = infos[0];
                    assert_eq!(info.peer_settings.max_concurrent_streams, Some(77));
                    assert_eq!(info.stats.streams_opened, 1);
                    assert_eq!(info.stats.data_received, body.len() as u64);
                    assert!(info.stats.bytes_sent > 0 && info.stats.bytes_received > 0);
                    assert_eq!(info.stats.resets_sent + info.stats.resets_received, 0);
                    assert!(info.stats.recv_window > 0 && info.stats.send_window > 0);
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn a_request_timeout_resets_the_stream_and_fails_the_body() {
                block_on!({
                    // The handler answers at once with a body it never finishes.
                    let held: Arc<Mutex<Vec<BodySender>>> = Arc::default();
                    let slot = held.clone();
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([slot] |_req| {
                        let (tx, body) = Body::channel();
                        slot.lock().unwrap().push(tx);
                        Response::new(body)
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let mut request = get("http", addr, "/never-ends");
                    request
                        .extensions_mut()
                        .insert(RequestTimeout(std::time::Duration::from_millis(200)));
                    // Usually after the head, in the body; on a slow machine maybe before it.
                    let err = match aw!(client.send(request)) {
                        Ok(response) => aw!(response.into_body().bytes()).expect_err("deadline"),
                        Err(e) => e,
                    };
                    assert!(matches!(err, Error::DeadlinePassed), "{err:?}");
                    // The server learns it (RST_STREAM CANCEL): its sender fails, bounded by
                    // what flow control lets it queue before that. (A handler that had not
                    // run yet when the reset came is dropped unrun.)
                    let sender = held.lock().unwrap().pop();
                    if let Some(mut tx) = sender {
                        let chunk = Bytes::from(vec![0u8; 16 * 1024]);
                        let mut failed = false;
                        for _ in 0..1024 {
                            if aw!(tx.send_data(chunk.clone())).is_err() {
                                failed = true;
                                break;
                            }
                        }
                        assert!(failed, "the server's body sender never learned of the reset");
                    }
                    let infos = aw!(client.connection_info()).expect("info");
                    assert_eq!(infos[0].stats.resets_sent, 1);
                    // The connection goes on.
                    let fine = aw!(client.send(get("http", addr, "/next"))).expect("next");
                    assert_eq!(fine.status(), StatusCode::OK);
                    drop(fine);
                    held.lock().unwrap().clear();
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn stream_handle_sends_103_and_pushes() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        let stream = StreamHandle::of(&req)
                            .expect("a StreamHandle");
                        let hints = Response::builder()
                            .status(StatusCode::EARLY_HINTS)
                            .header("link", "</style.css>; rel=preload")
                            .body(())
                            .expect("103");
                        stream.informational(hints).expect("informational");
                        let authority = req.uri().authority().expect("authority").clone();
                        let promised = Request::get(format!("http://{authority}/style.css"))
                            .body(())
                            .expect("promised request");
                        let pushed = Response::new(Body::from("body { color: red }"));
                        aw!(stream.push(promised, pushed)).expect("push");
                        Response::new(Body::from("<html>"))
                    })
                    );
                    let client = aw!(Client::connect(addr)).expect("connect");
                    let mut pushes = client.pushes();
                    let seen: Arc<Mutex<Vec<StatusCode>>> = Arc::default();
                    let log = seen.clone();
                    let mut request = get("http", addr, "/page");
                    request.extensions_mut().insert(OnInformational::new(move |r| {
                        log.lock().unwrap().push(r.status());
                    }));
                    let response = aw!(client.send(request)).expect("head");
                    // The 103 came before the final head.
                    assert_eq!(*seen.lock().unwrap(), [StatusCode::EARLY_HINTS]);
                    assert_eq!(aw!(response.into_body().bytes()).expect("page"), "<html>");
                    let promise = aw!(pushes.recv()).expect("a push");
                    assert_eq!(promise.request.uri().path(), "/style.css");
                    let pushed = aw!(promise.response.wait()).expect("pushed response");
                    let css = aw!(pushed.into_body().bytes()).expect("pushed body");
                    assert_eq!(css, "body { color: red }");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn stream_handle_over_http1_sends_an_interim_response_and_refuses_push() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        let stream = StreamHandle::of(&req)
                            .expect("a StreamHandle over HTTP/1.1 too");
                        let hints = Response::builder()
                            .status(StatusCode::EARLY_HINTS)
                            .header("link", "</style.css>; rel=preload")
                            .body(())
                            .expect("103");
                        stream.informational(hints).expect("informational");
                        let promised = Request::get("http://localhost/style.css")
                            .body(())
                            .expect("promised request");
                        let pushed = aw!(stream.push(promised, Response::new(Body::empty())));
                        let answer = if pushed.is_err() { "no push" } else { "pushed" };
                        Response::new(Body::from(answer))
                    })
                    );
                    let got = $crate::api::http1_exchange(
                        addr,
                        "GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
                    );
                    assert!(got.starts_with("HTTP/1.1 103"), "{got}");
                    let final_head = got.find("HTTP/1.1 200").expect("the final response");
                    assert!(got[final_head..].ends_with("no push"), "{got}");
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn connect_tls_with_gets_h2_by_alpn() {
                block_on!({
                    let pem = $crate::demo::self_signed().expect("certificate");
                    let server_tls = $a::tls::server_config_from_pem(&pem.cert, &pem.key)
                        .expect("server config");
                    let client_tls =
                        $a::tls::client_config_with_roots(&pem.cert).expect("client config");
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind").tls(server_tls),
                        handler!([] |req| {
                        let scheme = req.uri().scheme_str().unwrap_or("none").to_owned();
                        Response::new(Body::from(scheme))
                    })
                    );
                    let client = aw!(Client::connect_tls_with(
                        addr,
                        "localhost",
                        client_tls,
                        Config::client()
                    ))
                    .expect("connect_tls_with");
                    let response = aw!(client.send(get("https", addr, "/"))).expect("send");
                    assert_eq!(aw!(response.into_body().bytes()).expect("body"), "https");
                    aw!(client.close());
                    stop!(shutdown, served);
                })
            }

            #[test]
            fn upgrade_with_switches_to_h2c_and_sends_more() {
                block_on!({
                    let (addr, shutdown, served) = serving!(
                        aw!(Server::bind("127.0.0.1:0")).expect("bind"),
                        handler!([] |req| {
                        Response::new(Body::from(req.uri().path().to_owned()))
                    })
                    );
                    let first = get("http", addr, "/first");
                    let (conn, response) =
                        aw!($a::client::upgrade_with(addr, first, Config::client()))
                            .expect("upgrade");
                    assert_eq!(response.status(), StatusCode::OK);
                    let body = aw!(response.into_body().bytes()).expect("body");
                    assert_eq!(body, "/first");
                    let response = aw!(conn.send(get("http", addr, "/second"))).expect("send");
                    let body = aw!(response.into_body().bytes()).expect("body");
                    assert_eq!(body, "/second");
                    drop(conn);
                    stop!(shutdown, served);
                })
            }
        }
    };
}
