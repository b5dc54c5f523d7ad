//! The client's pool: a new connection when the server's SETTINGS_MAX_CONCURRENT_STREAMS is
//! reached or a connection is going away, and requests refused unprocessed sent again
//! (RFC 9113 §8.7).

#![allow(clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::Running;
use h2_mio::{Body, Client, Server};
use h2_testkit::demo;
use h2core::{Config, Event, Header, Reason};
use http::{Request, Response, StatusCode};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Any wait longer than this fails the test instead of hanging it.
const BOUND: Duration = Duration::from_secs(20);

/// `/stream?n=K` as the demo server without its pauses: headers, then K chunks.
fn handler(req: Request<Body>) -> Response<Body> {
    let n = demo::query(req.uri(), "n").unwrap_or(1);
    let (mut tx, body) = Body::channel();
    std::thread::spawn(move || {
        for i in 0..n {
            if tx.send_data(demo::event(i)).is_err() {
                return;
            }
        }
    });
    Response::new(body)
}

fn serve(config: Config) -> Running {
    let server = Server::bind("127.0.0.1:0").expect("bind");
    common::start(server.config(config).handler_threads(16), handler)
}

fn get(path: &str) -> Request<Body> {
    Request::get(format!("http://localhost{path}"))
        .body(Body::empty())
        .expect("request")
}

/// Answers `event 0` once `n` requests are held at once (each handler blocks until then): an
/// event, not a time, makes them concurrent. A hang guard of [`BOUND`] fails the handler.
fn hold_until(n: usize) -> impl Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static {
    let held = Arc::new((Mutex::new(0usize), Condvar::new()));
    move |_req| {
        let (count, all_held) = &*held;
        let mut count = count.lock().expect("count");
        *count += 1;
        all_held.notify_all();
        let (count, _) = all_held
            .wait_timeout_while(count, BOUND, |held| *held < n)
            .expect("count");
        assert!(*count >= n, "only {} of {n} requests arrived", *count);
        Response::new(Body::from(demo::event(0)))
    }
}

#[test]
fn requests_beyond_max_concurrent_streams_open_more_connections() {
    let mut config = Config::server();
    config.settings.max_concurrent_streams = Some(2);
    let server = Server::bind("127.0.0.1:0").expect("bind");
    let server = common::start(server.config(config).handler_threads(16), hold_until(7));
    let client = Client::connect(server.addr).expect("connect");
    // Seven at once, none answered until all seven are held: 2 + 2 + 2 + 1.
    let pending: Vec<_> = (0..7)
        .map(|_| client.start(get("/hold")).expect("start"))
        .collect();
    for p in pending {
        let resp = p.wait().expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.into_body().bytes().expect("body"), "event 0\n");
    }
    let stats = client.stats();
    // Seven streams open at once with a limit of 2 need four connections; never more: each
    // new connection is opened only when all are full.
    assert_eq!(stats.connections_opened, 4, "{stats:?}");
    assert_eq!(stats.retries, 0, "the limit was respected, nothing refused");
    assert_eq!(client.connections() as u64, stats.connections_opened);
}

#[test]
fn a_connection_that_received_goaway_is_replaced() {
    // The server ends idle connections gracefully (GOAWAY NO_ERROR, RFC 9113 §6.8).
    let mut config = Config::server();
    config.idle_timeout = Some(Duration::from_millis(100));
    let server = serve(config);
    let client = Client::connect(server.addr).expect("connect");
    let first = client.send(get("/")).expect("first").into_body();
    assert_eq!(first.bytes().expect("body"), "event 0\n");
    // Polled under a hang guard: the pool has no signal for a connection gone; the loop waits
    // for the outcome and asserts nothing about how long it took.
    let deadline = Instant::now() + BOUND;
    while client.connections() > 0 {
        assert!(Instant::now() < deadline, "no GOAWAY from the idle server");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = client.send(get("/")).expect("second").into_body();
    assert_eq!(second.bytes().expect("body"), "event 0\n");
    assert_eq!(client.stats().connections_opened, 2);
    assert_eq!(client.connections(), 1);
}

/// A server on the core alone (no adapter of ours), one thread per connection, that refuses
/// the first stream it ever sees with RST_STREAM(REFUSED_STREAM) and answers the others `ok`.
fn refusing_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let refused = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for socket in listener.incoming().take(8) {
            let Ok(socket) = socket else { return };
            let refused = refused.clone();
            std::thread::spawn(move || serve_core(socket, &refused));
        }
    });
    addr
}

fn serve_core(socket: TcpStream, refused: &AtomicBool) {
    common::serve_core(socket, BOUND, |conn, ev| {
        if let Event::RequestReceived { stream, .. } = ev {
            if !refused.swap(true, Ordering::SeqCst) {
                let _ = conn.reset(stream, Reason::REFUSED_STREAM);
            } else {
                let head = vec![Header::new(":status", "200")];
                let _ = conn.send_response(stream, head, false);
                let _ = conn.send_data(stream, Bytes::from_static(b"ok"), true);
            }
        }
    });
}

#[test]
fn a_refused_request_is_sent_again_with_its_body() {
    let addr = refusing_server();
    let client = Client::connect(addr).expect("connect");
    // POST is not idempotent: only a refusal (nothing processed) allows sending it again.
    let request = Request::post("http://localhost/")
        .body(Body::from("payload"))
        .expect("request");
    let resp = client.send(request).expect("response after the retry");
    assert_eq!(resp.into_body().bytes().expect("body"), "ok");
    assert_eq!(client.stats().retries, 1);
}
