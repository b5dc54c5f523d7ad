//! The mesh proxy example (examples/mesh-proxy) as the program it is: each test builds it
//! (`cargo build --example mesh-proxy`, once per test process), starts it as a child process
//! on its command line (`--listen 127.0.0.1:0 --upstream ADDR --upstream-protocol P`; the
//! process is killed when the test ends, failed or not) and talks to it over TCP, its counters
//! read from `GET /__proxy/stats`. Its HTTP/1.1 upstream pool is the library's
//! `h2_tokio::http1::Http1Pool`, tested on its own in tests/http1_pool.rs.
//!
//! The upstreams live in this test process: an `h2_tokio::Server` with the demo server's routes
//! (it serves h2c and HTTP/1.1 on one port), a scripted HTTP/2 peer (a tapped connection task)
//! for failures mid-body, and a scripted HTTP/1.1 peer for broken framing. curl and nghttp are
//! driven as child processes (a missing one fails the test, as in `h2_testkit::interop`). Every
//! wait is bounded; events (a signal, a count of held requests), not pauses, order what must
//! happen in order.

use bytes::{Bytes, BytesMut};
use h2_testkit::demo;
use h2_testkit::interop::{self, Scratch, ServerProcess, ServerSpec};
use h2_tokio::http1::Http1Pool;
use h2_tokio::{Body, Client, Error, Server};
use h2core::{Config, Event, Header, Reason};
use http::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// The longest any one test may take.
const TEST_LIMIT: Duration = Duration::from_secs(120);
/// The longest any one exchange may take.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(15);

/// The example program under test.
const MESH_PROXY: ServerSpec = ServerSpec::new("h2-tokio", "mesh-proxy");

/// Where the proxy answers its counters as JSON (the example's documented stats route).
const STATS_PATH: &str = "/__proxy/stats";

/// The example's `--upstream-protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    H2c,
    Http1,
}

impl Protocol {
    fn arg(self) -> &'static str {
        match self {
            Protocol::H2c => "h2c",
            Protocol::Http1 => "http1",
        }
    }
}

/// Requests held by `/hold` so far, in this test process.
fn held() -> &'static watch::Sender<u64> {
    static HELD: OnceLock<watch::Sender<u64>> = OnceLock::new();
    HELD.get_or_init(|| watch::channel(0).0)
}

/// One permit per `/reset-mid-body` response: the test adds it once the partial body came
/// through, and the upstream resets the stream then.
fn reset_go() -> &'static tokio::sync::Semaphore {
    static GO: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    GO.get_or_init(|| tokio::sync::Semaphore::new(0))
}

/// The demo server's routes, plus `/hold?n=N` (answers once N requests are held at once: an event,
/// not a time, makes them concurrent) and `/reset-mid-body`.
async fn routes(req: Request<Body>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/hold") => {
            let n = demo::query(req.uri(), "n").unwrap_or(1);
            held().send_modify(|held| *held += 1);
            let mut held = held().subscribe();
            let _ = held.wait_for(|held| *held >= n).await;
            Response::new(Body::from("held\n"))
        }
        (&Method::GET, "/reset-mid-body") => {
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                let _ = tx.send_data(Bytes::from_static(b"partial")).await;
                // Reset only once the client saw the partial data through the proxy: the
                // reset is mid-body whatever the scheduling, not after a guessed pause.
                if let Ok(go) = reset_go().acquire().await {
                    go.forget();
                }
                let _ = tx.abort(Reason::CANCEL).await;
            });
            Response::new(body)
        }
        _ => h2_testkit::demo_async::route::<h2_tokio::Tokio>(req).await,
    }
}

/// An `h2_tokio::Server` with [`routes`] allowing `max_streams` concurrent streams.
async fn start_upstream(max_streams: u32) -> SocketAddr {
    let mut config = Config::server();
    config.settings.max_concurrent_streams = Some(max_streams);
    let server = Server::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .config(config);
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(routes));
    addr
}

/// The mesh-proxy example running in a child process; killed when dropped.
struct RunningProxy {
    process: ServerProcess,
    // Holds the process's stderr file; declared after it, so removed after it is killed.
    _scratch: Scratch,
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("mesh-proxy stderr:\n{}", self.process.stderr());
        }
    }
}

/// Starts the example in front of `upstream` and returns the address it listens on, with the
/// process to keep alive for as long as the test uses it.
async fn start_proxy(upstream: SocketAddr, protocol: Protocol) -> (SocketAddr, RunningProxy) {
    let scratch = Scratch::new(&format!("mesh-proxy-{protocol:?}"));
    let upstream = upstream.to_string();
    // Starting waits (bounded) for the program's first line, `listening on ADDR`.
    let process = tokio::task::block_in_place(|| {
        ServerProcess::start(
            &MESH_PROXY,
            &scratch,
            &[
                "--upstream",
                &upstream,
                "--upstream-protocol",
                protocol.arg(),
                "--timeout-secs",
                "10",
            ],
        )
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], process.port()));
    (
        addr,
        RunningProxy {
            process,
            _scratch: scratch,
        },
    )
}

fn get(addr: SocketAddr, path: &str) -> Request<Body> {
    Request::get(format!("http://{addr}{path}"))
        .body(Body::empty())
        .expect("request")
}

/// `GET /__proxy/stats` over HTTP/1.1.
async fn stats(proxy: SocketAddr) -> String {
    let pool = Http1Pool::new(proxy, Duration::from_secs(10));
    let resp = pool.send(get(proxy, STATS_PATH)).await.expect("stats");
    let body = resp.into_body().bytes().await.expect("stats body");
    String::from_utf8(body.to_vec()).expect("utf-8")
}

fn stat(json: &str, key: &str) -> u64 {
    let pat = format!("\"{key}\":");
    let at = json.find(&pat).unwrap_or_else(|| panic!("{key} in {json}")) + pat.len();
    json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

fn runtime_test(f: impl std::future::Future<Output = ()>) {
    // Built here, outside the test's time limit: a cold build takes longer than a test.
    interop::example_binary(MESH_PROXY.package, MESH_PROXY.example);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        tokio::time::timeout(TEST_LIMIT, f)
            .await
            .expect("the test finished in time")
    });
}

// ---------------------------------------------------------------------------------------------
// curl and nghttp

/// Runs `program` (bounded by `interop::PEER_TIMEOUT`) off the runtime's threads; its stdout.
async fn run_async(program: &'static str, args: Vec<String>) -> Vec<u8> {
    let out = tokio::task::spawn_blocking(move || {
        let out = interop::run(Command::new(program).args(&args));
        assert!(
            out.status.success(),
            "{program} {args:?}:\n{}",
            out.report_alone()
        );
        out.stdout
    })
    .await
    .expect("the peer run did not panic");
    out
}

fn random_body(n: usize) -> Vec<u8> {
    // xorshift: incompressible enough, reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn clients_through(protocol: Protocol, curl: bool, nghttp: bool) {
    let upstream = start_upstream(100).await;
    let (proxy, _running) = start_proxy(upstream, protocol).await;
    let scratch = Scratch::new(&format!("{protocol:?}"));
    let input = random_body(1_000_000);
    let body_file = scratch.path("body.bin");
    std::fs::write(&body_file, &input).expect("write body");
    let body_arg = format!("@{}", body_file.display());
    let url = |path: &str| format!("http://{proxy}{path}");
    let headers = scratch.path("headers");
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let headers_arg = headers.display().to_string();

    if curl {
        // HTTP/1.1, request with Content-Length; the echoed response has no length: chunked.
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http1.1",
                "-D",
                &headers_arg,
                "--data-binary",
                &body_arg,
                &url("/echo"),
            ]),
        )
        .await;
        assert!(
            got == input,
            "{protocol:?}: curl HTTP/1.1 Content-Length upload"
        );
        let head = std::fs::read_to_string(&headers)
            .expect("headers")
            .to_lowercase();
        assert!(head.contains("transfer-encoding: chunked"), "{head}");

        // HTTP/1.1, chunked request.
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http1.1",
                "-H",
                "Transfer-Encoding: chunked",
                "--data-binary",
                &body_arg,
                &url("/echo"),
            ]),
        )
        .await;
        assert!(got == input, "{protocol:?}: curl HTTP/1.1 chunked upload");

        // HTTP/1.1, response with Content-Length.
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http1.1",
                "-D",
                &headers_arg,
                &url("/bytes/1000000"),
            ]),
        )
        .await;
        assert!(
            got == vec![b'x'; 1_000_000],
            "{protocol:?}: curl HTTP/1.1 download"
        );
        let head = std::fs::read_to_string(&headers)
            .expect("headers")
            .to_lowercase();
        assert!(head.contains("content-length: 1000000"), "{head}");

        // HTTP/1.1 with trailers: the raw chunked body ends with the 0-chunk and the trailer.
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http1.1",
                "--raw",
                "-H",
                "TE: trailers",
                &url("/trailers"),
            ]),
        )
        .await;
        let text = String::from_utf8_lossy(&got).to_lowercase();
        assert!(
            text.ends_with("0\r\nx-checksum: 42\r\n\r\n"),
            "{protocol:?}: {text:?}"
        );

        // h2c by prior knowledge.
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http2-prior-knowledge",
                "--data-binary",
                &body_arg,
                &url("/echo"),
            ]),
        )
        .await;
        assert!(got == input, "{protocol:?}: curl h2c upload");

        // h2c by Upgrade. curl 7.x fails (exit 16) when more than its 32 KiB buffer of HTTP/2
        // follows the 101 in one read, so the echoed body stays below that.
        let small = &input[..20_000];
        let small_file = scratch.path("small.bin");
        std::fs::write(&small_file, small).expect("write body");
        let got = run_async(
            "curl",
            s(&[
                "-sS",
                "--http2",
                "--data-binary",
                &format!("@{}", small_file.display()),
                &url("/echo"),
            ]),
        )
        .await;
        assert!(got == small, "{protocol:?}: curl Upgrade: h2c upload");
        let got = run_async(
            "curl",
            s(&["-sS", "--http2", "-D", &headers_arg, &url("/")]),
        )
        .await;
        assert_eq!(&got[..], b"hello\n");
        let head = std::fs::read_to_string(&headers)
            .expect("headers")
            .to_lowercase();
        assert!(
            head.starts_with("http/1.1 101") && head.contains("http/2 200"),
            "{head}"
        );
    }
    if nghttp {
        let got = run_async(
            "nghttp",
            s(&["-d", &body_file.display().to_string(), &url("/echo")]),
        )
        .await;
        assert!(got == input, "{protocol:?}: nghttp upload");
        let got = run_async("nghttp", s(&["-v", &url("/trailers")])).await;
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains("body before trailers"), "{text}");
        assert!(
            text.contains("x-checksum: 42"),
            "{protocol:?}: trailers: {text}"
        );
    }
    let json = stats(proxy).await;
    println!("{protocol:?} upstream after curl/nghttp: {json}");
    assert_eq!(stat(&json, "upstream_errors"), 0, "{json}");
}

#[test]
fn curl_and_nghttp_through_the_proxy_get_identical_bodies() {
    // A missing peer fails the test (under H2_ALLOW_MISSING_PEERS=1, its cases are skipped
    // and the skip recorded).
    let curl = interop::require_curl().is_some();
    let nghttp = interop::require("nghttp").is_some();
    if !curl && !nghttp {
        return;
    }
    runtime_test(async {
        clients_through(Protocol::H2c, curl, nghttp).await;
        clients_through(Protocol::Http1, curl, nghttp).await;
    });
}

// ---------------------------------------------------------------------------------------------
// Header bytes and connection counts

/// Fields a sidecar sees on every request: a stable identity, fresh tracing ids.
fn mesh_request(i: usize) -> Request<Body> {
    Request::get(format!(
        "http://orders.default.svc.cluster.local:8080/api/v1/orders/{i}?include=items"
    ))
    .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
    .header("accept", "application/json, text/plain, */*")
    .header("accept-encoding", "gzip, deflate, br")
    .header("accept-language", "en-US,en;q=0.9")
    .header("x-request-id", format!("3f1c6e2a-8b4d-4c1e-9a7f-{:012x}", i * 7919))
    .header("traceparent", format!("00-4bf92f3577b34da6a3ce929d{:06x}-00f067aa0b{:06x}-01", i, i * 31))
    .header("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    .header("cookie", "session=7d2c9a1e5f3b4c8d9e0f1a2b3c4d5e6f; _ga=GA1.2.1234567890.1700000000; theme=dark")
    .header(
        "authorization",
        "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJvcmRlcnMtc2VydmljZSIsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbSIsImF1ZCI6Im9yZGVycyIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLXBsYWNlaG9sZGVyLXNpZ25hdHVyZQ",
    )
    .header("x-forwarded-for", "10.12.3.4")
    .header("x-forwarded-proto", "http")
    .header("x-envoy-expected-rq-timeout-ms", "15000")
    .body(Body::empty())
    .expect("request")
}

#[test]
fn h2c_header_bytes_are_at_most_half_of_http1_over_a_thousand_requests() {
    runtime_test(async {
        let upstream = start_upstream(100).await;
        let (proxy, _running) = start_proxy(upstream, Protocol::H2c).await;
        let client = Http1Pool::new(proxy, Duration::from_secs(10));
        for i in 0..1000 {
            let resp = tokio::time::timeout(EXCHANGE_LIMIT, client.send(mesh_request(i)))
                .await
                .expect("in time")
                .expect("response");
            assert_eq!(resp.status(), StatusCode::NOT_FOUND);
            resp.into_body().bytes().await.expect("body");
        }
        let json = stats(proxy).await;
        let (h1, h2) = (
            stat(&json, "http1_header_bytes_in"),
            stat(&json, "h2c_header_bytes_out"),
        );
        println!(
            "1000 mesh requests: {json}\nh2c/http1 header bytes = {h2}/{h1} = {:.1}%",
            100.0 * h2 as f64 / h1 as f64
        );
        assert_eq!(stat(&json, "requests"), 1000);
        // Exact: what our client wrote is what the proxy counted.
        assert_eq!(h1, client.stats().header_bytes_sent, "{json}");
        assert_eq!(
            client.stats().connections_opened,
            1,
            "keep-alive downstream"
        );
        assert_eq!(stat(&json, "upstream_connections"), 1, "{json}");
        assert!(h2 * 2 <= h1, "h2c {h2} bytes vs HTTP/1.1 {h1} bytes");
    });
}

#[test]
fn five_hundred_concurrent_requests_take_the_fewest_upstream_connections() {
    runtime_test(async {
        let upstream = start_upstream(100).await;
        let (proxy, _running) = start_proxy(upstream, Protocol::H2c).await;
        let client = Client::connect(proxy).await.expect("connect");
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let client = client.clone();
            tasks.spawn(async move {
                let resp = client.send(get(proxy, "/hold?n=500")).await?;
                let status = resp.status();
                let body = resp.into_body().bytes().await?;
                Ok::<_, Error>((status, body))
            });
        }
        let mut ok = 0;
        while let Some(r) = tasks.join_next().await {
            let (status, body) = r.expect("join").expect("response");
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"held\n");
            ok += 1;
        }
        assert_eq!(ok, 500);
        let json = stats(proxy).await;
        println!("500 concurrent requests, MAX_CONCURRENT_STREAMS 100: {json}");
        assert_eq!(stat(&json, "requests"), 500);
        // All 500 are held upstream at once (or the test hangs): at least 500/100 connections
        // are needed, and the pool opens a new one only when those it has are full, so it never
        // takes more. Nothing here depends on how fast requests arrive.
        assert_eq!(stat(&json, "upstream_connections"), 500 / 100, "{json}");
        assert_eq!(stat(&json, "upstream_retries"), 0, "{json}");
    });
}

#[test]
fn http1_upstream_connections_are_kept_alive() {
    runtime_test(async {
        let upstream = start_upstream(100).await;
        let (proxy, _running) = start_proxy(upstream, Protocol::Http1).await;
        let client = Client::connect(proxy).await.expect("connect");
        for i in 0..50 {
            let req = Request::post(format!("http://{proxy}/echo"))
                .body(Body::from(format!("request {i}")))
                .expect("request");
            let resp = client.send(req).await.expect("response");
            let body = resp.into_body().bytes().await.expect("body");
            assert_eq!(body, format!("request {i}").as_bytes());
            let resp = client
                .send(get(proxy, "/bytes/10"))
                .await
                .expect("response");
            assert_eq!(resp.into_body().bytes().await.expect("body").len(), 10);
        }
        let json = stats(proxy).await;
        assert_eq!(stat(&json, "requests"), 100);
        assert_eq!(stat(&json, "upstream_connections"), 1, "{json}");
    });
}

// ---------------------------------------------------------------------------------------------
// Failures upstream

/// An HTTP/2 peer scripted by path on the core's own verbs: `/goaway-mid-body` (a head, some
/// data, then GOAWAY INTERNAL_ERROR), `/disconnect-mid-body` (the same, then the TCP connection
/// drops), `/refuse-first` (the first such request is refused with REFUSED_STREAM, later ones
/// echo their body), anything else `200 ok`.
async fn scripted_h2_upstream() -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let scripted = Scripted {
        addr: listener.local_addr().expect("addr"),
        retried: Arc::default(),
        disconnect: Arc::default(),
    };
    let refusals = Arc::new(AtomicUsize::new(0));
    let signals = scripted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let connection = scripted_h2_connection(socket, refusals.clone(), signals.clone());
            tokio::spawn(connection);
        }
    });
    scripted
}

/// The scripted upstream's address and its signals, which order events without sleeping.
#[derive(Clone)]
struct Scripted {
    addr: SocketAddr,
    /// Notified when a refused `/refuse-first` came again.
    retried: Arc<Notify>,
    /// `/disconnect-mid-body` drops its connection once this is notified (the test saw the head).
    disconnect: Arc<Notify>,
}

async fn scripted_h2_connection(
    socket: tokio::net::TcpStream,
    refusals: Arc<AtomicUsize>,
    signals: Scripted,
) {
    let (tap, mut events, driver) = h2_tokio::testing::tap(socket, Config::server());
    let driver = tokio::spawn(driver);
    let head = |status: &'static str| vec![Header::new(":status", status)];
    let mut echoing = std::collections::HashSet::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::RequestReceived {
                stream,
                headers,
                end_stream,
            } => {
                let path = headers
                    .iter()
                    .find(|h| h.name == ":path")
                    .map(|h| h.value.clone())
                    .unwrap_or_default();
                match &path[..] {
                    b"/goaway-mid-body" => tap.call(Box::new(move |c, now| {
                        let _ = c.send_response(stream, head("200"), false);
                        let _ = c.send_data(stream, Bytes::from_static(b"partial"), false);
                        let _ = c.go_away(Reason::INTERNAL_ERROR, Bytes::from_static(b"bye"), now);
                    })),
                    b"/disconnect-mid-body" => {
                        tap.call(Box::new(move |c, _| {
                            let _ = c.send_response(stream, head("200"), false);
                            let _ = c.send_data(stream, Bytes::from_static(b"partial"), false);
                        }));
                        signals.disconnect.notified().await;
                        driver.abort();
                        return;
                    }
                    b"/refuse-first" if refusals.fetch_add(1, Ordering::SeqCst) == 0 => {
                        tap.call(Box::new(move |c, _| {
                            let _ = c.reset(stream, Reason::REFUSED_STREAM);
                        }));
                    }
                    b"/refuse-first" => {
                        signals.retried.notify_one();
                        echoing.insert(stream);
                        tap.call(Box::new(move |c, _| {
                            let _ = c.send_response(stream, head("200"), end_stream);
                        }));
                    }
                    _ => tap.call(Box::new(move |c, _| {
                        let _ = c.send_response(stream, head("200"), false);
                        let _ = c.send_data(stream, Bytes::from_static(b"ok\n"), true);
                    })),
                }
            }
            Event::DataReceived {
                stream,
                data,
                end_stream,
                ..
            } => {
                let echo = echoing.contains(&stream);
                tap.call(Box::new(move |c, _| {
                    c.release_capacity(stream, data.len());
                    if echo {
                        let _ = c.send_data(stream, data, end_stream);
                    }
                }));
            }
            _ => {}
        }
    }
}

async fn expect_broken_body(resp: Response<Body>, what: &str) {
    assert_eq!(resp.status(), StatusCode::OK, "{what}: the head arrived");
    let body = tokio::time::timeout(EXCHANGE_LIMIT, resp.into_body().collect())
        .await
        .unwrap_or_else(|_| panic!("{what}: the body ended in time"));
    assert!(
        body.is_err(),
        "{what}: the body must fail, not end: {body:?}"
    );
}

/// A `/reset-mid-body` response: the head and the partial data arrive, then (the upstream
/// told to reset) the body fails.
async fn expect_reset_mid_body(resp: Response<Body>, what: &str) {
    assert_eq!(resp.status(), StatusCode::OK, "{what}: the head arrived");
    let mut body = resp.into_body();
    let first = tokio::time::timeout(EXCHANGE_LIMIT, body.data())
        .await
        .unwrap_or_else(|_| panic!("{what}: no partial data in time"));
    match first {
        Some(Ok(data)) => assert_eq!(&data[..], b"partial", "{what}: the partial data first"),
        other => panic!("{what}: want the partial data first, got {other:?}"),
    }
    reset_go().add_permits(1);
    expect_broken_body(Response::new(body), what).await;
}

async fn expect_normal_service(proxy: SocketAddr, path: &str, body: &[u8]) {
    let client = Client::connect(proxy).await.expect("connect");
    let resp = tokio::time::timeout(EXCHANGE_LIMIT, client.send(get(proxy, path)))
        .await
        .expect("in time")
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&resp.into_body().bytes().await.expect("body")[..], body);
    let http1 = Http1Pool::new(proxy, Duration::from_secs(10));
    let resp = http1.send(get(proxy, path)).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&resp.into_body().bytes().await.expect("body")[..], body);
}

#[test]
fn upstream_reset_goaway_and_disconnect_mid_body_fail_cleanly_downstream() {
    runtime_test(async {
        // A reset mid-body from a real server, over h2c and over HTTP/1.1 upstream.
        let upstream = start_upstream(100).await;
        for protocol in [Protocol::H2c, Protocol::Http1] {
            let (proxy, _running) = start_proxy(upstream, protocol).await;
            let h2 = Client::connect(proxy).await.expect("connect");
            let resp = h2.send(get(proxy, "/reset-mid-body")).await.expect("head");
            expect_reset_mid_body(resp, "reset, HTTP/2 client").await;
            let http1 = Http1Pool::new(proxy, Duration::from_secs(10));
            let resp = http1
                .send(get(proxy, "/reset-mid-body"))
                .await
                .expect("head");
            expect_reset_mid_body(resp, "reset, HTTP/1.1 client").await;
            expect_normal_service(proxy, "/", b"hello\n").await;
        }

        // GOAWAY and a lost connection mid-body, from the scripted peer.
        let scripted = scripted_h2_upstream().await;
        let (proxy, _running) = start_proxy(scripted.addr, Protocol::H2c).await;
        for path in ["/goaway-mid-body", "/disconnect-mid-body"] {
            // The upstream drops its connection only once the head came through the proxy.
            let head_seen = || {
                if path == "/disconnect-mid-body" {
                    scripted.disconnect.notify_one();
                }
            };
            let h2 = Client::connect(proxy).await.expect("connect");
            let resp = h2.send(get(proxy, path)).await.expect("head");
            head_seen();
            expect_broken_body(resp, &format!("{path}, HTTP/2 client")).await;
            let http1 = Http1Pool::new(proxy, Duration::from_secs(10));
            let resp = http1.send(get(proxy, path)).await.expect("head");
            head_seen();
            expect_broken_body(resp, &format!("{path}, HTTP/1.1 client")).await;
            expect_normal_service(proxy, "/", b"ok\n").await;
        }
        let json = stats(proxy).await;
        println!("after GOAWAY and disconnects: {json}");
        // Each failure cost its connection; the proxy opened new ones to keep serving.
        assert!(stat(&json, "upstream_connections") >= 5, "{json}");
    });
}

#[test]
fn refused_requests_are_retried_on_the_upstream() {
    runtime_test(async {
        let scripted = scripted_h2_upstream().await;
        let (proxy, _running) = start_proxy(scripted.addr, Protocol::H2c).await;
        let client = Client::connect(proxy).await.expect("connect");
        // The body comes after the refusal: nothing of it was read, so it can go again.
        let (mut tx, body) = Body::channel();
        let req = Request::post(format!("http://{proxy}/refuse-first"))
            .body(body)
            .expect("request");
        let send = tokio::spawn({
            let client = client.clone();
            async move { client.send(req).await }
        });
        tokio::time::timeout(EXCHANGE_LIMIT, scripted.retried.notified())
            .await
            .expect("the refused request came again");
        tx.send_data(Bytes::from_static(b"sent once, delivered once"))
            .await
            .expect("send");
        drop(tx);
        let resp = tokio::time::timeout(EXCHANGE_LIMIT, send)
            .await
            .expect("in time")
            .expect("join")
            .expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        let body = resp.into_body().bytes().await.expect("body");
        assert_eq!(&body[..], b"sent once, delivered once");
        let json = stats(proxy).await;
        assert_eq!(stat(&json, "upstream_retries"), 1, "{json}");
        assert_eq!(stat(&json, "upstream_errors"), 0, "{json}");

        // A bodiless request refused: retried too.
        let scripted = scripted_h2_upstream().await;
        let (proxy, _running) = start_proxy(scripted.addr, Protocol::H2c).await;
        let client = Client::connect(proxy).await.expect("connect");
        let resp = tokio::time::timeout(EXCHANGE_LIMIT, client.send(get(proxy, "/refuse-first")))
            .await
            .expect("in time")
            .expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        let json = stats(proxy).await;
        assert_eq!(stat(&json, "upstream_retries"), 1, "{json}");
        assert_eq!(stat(&json, "upstream_errors"), 0, "{json}");
    });
}

/// An HTTP/1.1 peer scripted by path, for bodiless requests on keep-alive connections:
/// `/no-terminator` (chunked, no 0-chunk, then close), `/terminated` (the same with its
/// 0-chunk), `/short` (Content-Length 100, 7 bytes, close), `/until-close` (close-delimited),
/// `/trailers` (chunked with a trailer), `/no-head` (close at once).
async fn scripted_http1_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                for _ in 0..10_000 {
                    let head = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break buf.split_to(i + 4);
                        }
                        if !matches!(socket.read_buf(&mut buf).await, Ok(n) if n > 0) {
                            return;
                        }
                    };
                    let line = String::from_utf8_lossy(&head).to_string();
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    let (reply, close): (&[u8], bool) = match path.as_str() {
                        "/no-terminator" => (
                            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7\r\npartial\r\n",
                            true,
                        ),
                        "/terminated" => (
                            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\ncomplete\r\n0\r\n\r\n",
                            false,
                        ),
                        "/short" => (
                            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial",
                            true,
                        ),
                        "/until-close" => (b"HTTP/1.1 200 OK\r\n\r\nuntil close", true),
                        "/trailers" => (
                            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive, x-hop\r\nx-hop: 1\r\nkeep-alive: timeout=5\r\n\r\n4\r\nbody\r\n0\r\nx-sum: 7\r\n\r\n",
                            false,
                        ),
                        "/no-head" => (b"", true),
                        _ => (b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n", false),
                    };
                    if socket.write_all(reply).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn http1_upstream_framing_is_exact_and_a_dropped_terminator_is_an_error() {
    runtime_test(async {
        let upstream = scripted_http1_upstream().await;
        let (proxy, _running) = start_proxy(upstream, Protocol::Http1).await;
        let h2 = Client::connect(proxy).await.expect("connect");
        let http1 = Http1Pool::new(proxy, Duration::from_secs(10));

        for path in ["/no-terminator", "/short"] {
            let resp = h2.send(get(proxy, path)).await.expect("head");
            expect_broken_body(resp, &format!("{path}, HTTP/2 client")).await;
            let resp = http1.send(get(proxy, path)).await.expect("head");
            expect_broken_body(resp, &format!("{path}, HTTP/1.1 client")).await;
        }

        for (path, want) in [
            ("/terminated", &b"complete"[..]),
            ("/until-close", b"until close"),
        ] {
            let resp = tokio::time::timeout(EXCHANGE_LIMIT, h2.send(get(proxy, path)))
                .await
                .expect("in time")
                .expect("head");
            let body = tokio::time::timeout(EXCHANGE_LIMIT, resp.into_body().bytes())
                .await
                .expect("in time")
                .expect("complete");
            assert_eq!(&body[..], want, "{path}");
        }

        // Trailers pass; hop-by-hop fields (and what Connection names) do not.
        let resp = h2.send(get(proxy, "/trailers")).await.expect("head");
        assert!(resp.headers().get("x-hop").is_none());
        assert!(resp.headers().get("keep-alive").is_none());
        assert!(resp.headers().get("connection").is_none());
        let (body, trailers) = resp.into_body().collect().await.expect("complete");
        assert_eq!(&body[..], b"body");
        assert_eq!(
            trailers
                .expect("trailers")
                .get("x-sum")
                .map(|v| v.as_bytes()),
            Some(&b"7"[..])
        );

        // No head at all: 502, and the proxy goes on serving.
        let resp = h2.send(get(proxy, "/no-head")).await.expect("response");
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
        let resp = h2.send(get(proxy, "/")).await.expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(&resp.into_body().bytes().await.expect("body")[..], b"ok\n");
    });
}

#[test]
fn http1_clients_get_exact_framing_from_an_h2c_upstream() {
    runtime_test(async {
        let upstream = start_upstream(100).await;
        let (proxy, _running) = start_proxy(upstream, Protocol::H2c).await;
        let mut socket = tokio::net::TcpStream::connect(proxy)
            .await
            .expect("connect");
        // Chunked (the upstream gave no length) with its trailer, then Content-Length, then a
        // request with a hop-by-hop field named by Connection: all on one connection.
        socket
            .write_all(
                b"GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: TE\r\n\r\n\
                  GET /bytes/5 HTTP/1.1\r\nHost: a\r\n\r\n\
                  POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\nabc",
            )
            .await
            .expect("write");
        let want_tail = b"abc\r\n0\r\n\r\n";
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(want_tail) {
            let n = tokio::time::timeout(EXCHANGE_LIMIT, socket.read(&mut buf))
                .await
                .expect("in time")
                .expect("read");
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).to_lowercase();
        let first = text.find("0\r\nx-checksum: 42\r\n\r\nhttp/1.1 200 ok\r\n");
        assert!(first.is_some(), "{text}");
        assert!(
            text.contains("content-length: 5\r\n\r\nxxxxxhttp/1.1 200"),
            "{text}"
        );
    });
}
