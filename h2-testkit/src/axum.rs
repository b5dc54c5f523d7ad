//! axum on every async adapter, written once: an axum `Router` under tower-http's
//! `SetResponseHeaderLayer`, served by the adapter's `Server` as a tower `Service`, checked by
//! curl (HTTP/1.1, h2c by prior knowledge and by `Upgrade: h2c`, h2 and HTTP/1.1 over TLS by
//! ALPN) and by the adapter's `Client` (h2c, `Upgrade: h2c`, TLS): status, body, extractors and
//! the layer's header. [`axum_tests!`](crate::axum_tests) lists the tests for an adapter's
//! `tests/axum.rs`, which says how the router is served ([`AxumServer`]): h2-tokio runs its
//! compiled `examples/axum.rs` ([`ExampleServer`]), h2-async-std serves `app` (feature
//! `axum`) in the test process on its own executor.
//!
//! A missing curl fails the curl tests (`interop::require_curl`); every curl run and every
//! test is bounded.

use crate::interop::{self, Output, Scratch, ServerProcess, ServerSpec};
use h2_async::rt::{self, Runtime};
use h2_async::Body;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// The header the layer sets on every response, fallback (404) included; its value is
/// `axum on ADAPTER` ([`AxumServer::served_by`]).
pub const SERVED_BY: &str = "x-served-by";
/// The longest one test may take.
pub const TEST_LIMIT: Duration = Duration::from_secs(120);

/// A running axum server under test, with the routes of h2-tokio's `examples/axum.rs` (`app`,
/// feature `axum`).
pub trait AxumServer {
    /// The value of its [`SERVED_BY`] header: `axum on h2-tokio`, ...
    fn served_by(&self) -> &'static str;
    /// The address it listens on.
    fn addr(&self) -> SocketAddr;
    /// `http://ADDR{path}`, or `https://` when it serves TLS.
    fn url(&self, path: &str) -> String;
    /// Everything about a failed curl run, and the server's own output if it has any, for an
    /// assertion message.
    fn report(&self, out: &Output) -> String;
}

/// An adapter's compiled axum example as a child process on 127.0.0.1 port 0 (port read from its
/// first line), killed on drop.
pub struct ExampleServer {
    process: ServerProcess,
    served_by: &'static str,
    // Dropped after the process: its stderr file lives here.
    _scratch: Scratch,
}

impl ExampleServer {
    /// Starts `spec` (with `--tls` when `tls`, its self-signed certificate); its responses
    /// carry `x-served-by: {served_by}`.
    pub fn start(spec: &ServerSpec, served_by: &'static str, tls: bool) -> ExampleServer {
        let scratch = Scratch::new(if tls {
            "axum_server_tls"
        } else {
            "axum_server"
        });
        let args: &[&str] = if tls { &["--tls"] } else { &[] };
        ExampleServer {
            process: ServerProcess::start(spec, &scratch, args),
            served_by,
            _scratch: scratch,
        }
    }
}

impl AxumServer for ExampleServer {
    fn served_by(&self) -> &'static str {
        self.served_by
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.process.port()))
    }

    fn url(&self, path: &str) -> String {
        self.process.url(path)
    }

    fn report(&self, out: &Output) -> String {
        out.report(&self.process)
    }
}

/// One curl run: `%{http_code} %{http_version}`, the response headers and the body.
pub struct Answer {
    /// `200 2`, `404 1.1`, ...
    pub status: String,
    /// The response heads as curl dumped them.
    pub head: String,
    /// The response body.
    pub body: Vec<u8>,
    /// curl's exit status and output.
    pub out: Output,
}

impl Answer {
    /// The value of the response header `name` (the last head's, after a 101).
    pub fn header(&self, name: &str) -> Option<String> {
        let last_head = self
            .head
            .rsplit("\r\n\r\n")
            .find(|h| !h.trim().is_empty())?;
        last_head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// Asserts the answer is `status` (`"200 2"`), carries the layer's header and has `body`.
    pub fn assert(&self, server: &impl AxumServer, status: &str, body: &[u8]) {
        let report = || format!("{}\n--- head:\n{}", server.report(&self.out), self.head);
        assert_eq!(self.status, status, "{}", report());
        assert_eq!(
            self.header(SERVED_BY).as_deref(),
            Some(server.served_by()),
            "the tower-http layer's header is missing:\n{}",
            report()
        );
        assert!(
            self.body == body,
            "body {:?}, expected {:?}:\n{}",
            String::from_utf8_lossy(&self.body),
            String::from_utf8_lossy(body),
            report()
        );
    }
}

/// curl `args` against `path` of `server`, on a thread of its own (the server may run on the
/// test's executor); asserts it exited 0.
pub async fn curl<S: AxumServer>(
    server: &S,
    scratch: &Scratch,
    path: &str,
    args: &[&str],
) -> Answer {
    let curl = interop::which("curl").expect("checked by require_curl");
    let body_path = scratch.path("curl.body");
    let head_path = scratch.path("curl.head");
    let url = server.url(path);
    let mut cmd = Command::new(curl);
    cmd.args(["--silent", "--show-error", "--max-time", "20", "--output"])
        .arg(&body_path)
        .arg("--dump-header")
        .arg(&head_path)
        .args(["--write-out", "%{http_code} %{http_version}"])
        .args(args)
        .arg(&url);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(interop::run(&mut cmd));
    });
    let out = rx.await.expect("curl ran");
    assert!(
        out.status.success(),
        "curl {args:?} {url}:\n{}",
        server.report(&out)
    );
    Answer {
        status: out.text(),
        head: std::fs::read_to_string(&head_path).expect("curl wrote the head"),
        body: std::fs::read(&body_path).expect("curl wrote the body"),
        out,
    }
}

/// Writes `len` bytes of [`interop::pattern`] to a scratch file for curl's `--data-binary @`.
pub fn upload(scratch: &Scratch, len: usize) -> (String, Vec<u8>) {
    let sent = interop::pattern(len);
    let path = scratch.path("upload.bin");
    std::fs::write(&path, &sent).expect("write upload");
    (format!("@{}", path.display()), sent)
}

/// Runs `test` on `R`, failing it after [`TEST_LIMIT`].
pub async fn bounded<R: Runtime>(test: impl Future<Output = ()>) {
    rt::timeout_at::<R, _>(R::now() + TEST_LIMIT, test)
        .await
        .expect("the test finished in time")
}

/// HTTP/1.1: the routes, axum's fallback (404), and 1 MB through axum both ways (our request
/// body read by axum, axum's body sent by us), each with the layer's header.
pub async fn curl_http11_reaches_the_router_through_the_tower_http_layer<S: AxumServer>(
    server: &S,
) {
    let scratch = Scratch::new("axum_http11");
    let h1 = ["--http1.1"];
    let root = curl(server, &scratch, "/", &h1).await;
    root.assert(server, "200 1.1", b"hello from axum\n");
    let version = curl(server, &scratch, "/version", &h1).await;
    version.assert(server, "200 1.1", b"HTTP/1.1\n");
    // axum's fallback answers, and the layer still applies.
    let missing = curl(server, &scratch, "/no-such-route", &h1).await;
    missing.assert(server, "404 1.1", b"");
    let (data, sent) = upload(&scratch, 1 << 20);
    let echo_args = ["--http1.1", "--data-binary", &data];
    let echo = curl(server, &scratch, "/echo", &echo_args).await;
    echo.assert(server, "200 1.1", &sent);
}

/// h2c by prior knowledge: `Query` in and `Json` out, an extractor's rejection (axum's 400,
/// through the layer too), `Json` in and out, and a 1 MB echo.
pub async fn curl_h2c_prior_knowledge_runs_axum_extractors<S: AxumServer>(server: &S) {
    let scratch = Scratch::new("axum_h2c");
    let h2 = "--http2-prior-knowledge";
    let root = curl(server, &scratch, "/", &[h2]).await;
    root.assert(server, "200 2", b"hello from axum\n");
    let version = curl(server, &scratch, "/version", &[h2]).await;
    version.assert(server, "200 2", b"HTTP/2.0\n");
    // Query in, Json out.
    let sum = curl(server, &scratch, "/add?a=2&b=40", &[h2]).await;
    sum.assert(server, "200 2", br#"{"sum":42}"#);
    assert_eq!(
        sum.header("content-type").as_deref(),
        Some("application/json")
    );
    // An extractor's rejection is axum's 400, through the layer too.
    let bad = curl(server, &scratch, "/add?a=two&b=40", &[h2]).await;
    assert_eq!(bad.status, "400 2", "{}", server.report(&bad.out));
    assert_eq!(bad.header(SERVED_BY).as_deref(), Some(server.served_by()));
    // Json in, Json out.
    let json = ["-H", "content-type: application/json"];
    let greet_args = [h2, json[0], json[1], "--data", r#"{"name":"curl"}"#];
    let greet = curl(server, &scratch, "/greet", &greet_args).await;
    greet.assert(server, "200 2", br#"{"greeting":"hello, curl"}"#);
    let (data, sent) = upload(&scratch, 1 << 20);
    let echo = curl(server, &scratch, "/echo", &[h2, "--data-binary", &data]).await;
    echo.assert(server, "200 2", &sent);
}

/// `--http2` on http:// asks for `Upgrade: h2c`; the answer comes on stream 1, after a 101.
pub async fn curl_h2c_upgrade_is_answered_by_axum_over_http2<S: AxumServer>(server: &S) {
    let scratch = Scratch::new("axum_upgrade");
    let version = curl(server, &scratch, "/version", &["--http2"]).await;
    version.assert(server, "200 2", b"HTTP/2.0\n");
    assert!(
        version.head.contains("101"),
        "no 101 Switching Protocols:\n{}",
        version.head
    );
}

/// Over TLS (`server` serves it, with a self-signed certificate), ALPN selects h2 for
/// `--http2` and HTTP/1.1 for `--http1.1`.
pub async fn curl_tls_alpn_selects_h2_or_http11_for_axum<S: AxumServer>(server: &S) {
    let scratch = Scratch::new("axum_tls");
    let h2_args = ["--insecure", "--http2", "--verbose"];
    let h2 = curl(server, &scratch, "/version", &h2_args).await;
    h2.assert(server, "200 2", b"HTTP/2.0\n");
    assert!(
        h2.out.stderr.contains("ALPN: server accepted h2")
            || h2.out.stderr.contains("ALPN, server accepted to use h2"),
        "ALPN did not select h2:\n{}",
        server.report(&h2.out)
    );
    let sum = curl(
        server,
        &scratch,
        "/add?a=-1&b=1",
        &["--insecure", "--http2"],
    )
    .await;
    sum.assert(server, "200 2", br#"{"sum":0}"#);
    let h1 = curl(server, &scratch, "/", &["--insecure", "--http1.1"]).await;
    h1.assert(server, "200 1.1", b"hello from axum\n");
}

/// `response`'s status, the layer's header and its body read whole.
pub async fn read(response: Response<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    let status = response.status();
    let served_by = response
        .headers()
        .get(SERVED_BY)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.into_body().bytes().await.expect("body");
    (status, served_by, body.to_vec())
}

/// A `method` request for `url` with `content-type: application/json`.
pub fn request(method: &str, url: String, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(body)
        .expect("request")
}

/// The application: plain axum, nothing of ours, the routes of h2-tokio's `examples/axum.rs`
/// (for adapters that serve it in the test process): `GET /` → `hello from axum\n`; `GET
/// /version` → the request's HTTP version; `GET /add?a=A&b=B` → `{"sum":A+B}`; `POST /greet`
/// with `{"name":"N"}` → `{"greeting":"hello, N"}`; `POST /echo` → the request body streamed
/// back; 404 otherwise; every response with `x-served-by: {served_by}`.
#[cfg(feature = "axum")]
pub fn app(served_by: &'static str) -> axum::Router {
    use axum::extract::{Query, Request};
    use axum::http::{HeaderName, HeaderValue, Version};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde::{Deserialize, Serialize};
    use tower_http::set_header::SetResponseHeaderLayer;

    #[derive(Deserialize)]
    struct Operands {
        a: i64,
        b: i64,
    }
    #[derive(Serialize)]
    struct Sum {
        sum: i64,
    }
    #[derive(Deserialize)]
    struct Greet {
        name: String,
    }
    #[derive(Serialize)]
    struct Greeting {
        greeting: String,
    }

    Router::new()
        .route("/", get(|| async { "hello from axum\n" }))
        .route(
            "/version",
            get(|version: Version| async move { format!("{version:?}\n") }),
        )
        .route(
            "/add",
            get(|Query(Operands { a, b }): Query<Operands>| async move {
                Json(Sum {
                    sum: a.saturating_add(b),
                })
            }),
        )
        .route(
            "/greet",
            post(|Json(Greet { name }): Json<Greet>| async move {
                Json(Greeting {
                    greeting: format!("hello, {name}"),
                })
            }),
        )
        // Streams: axum::body::Body wraps ours, and the server wraps axum's again.
        .route("/echo", post(|req: Request| async move { req.into_body() }))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(SERVED_BY),
            HeaderValue::from_static(served_by),
        ))
}

/// The axum tests for one async adapter's `tests/axum.rs`, each an async fn under `test` (the
/// runtime's test attribute) and bounded by [`TEST_LIMIT`] on `runtime`:
///
/// ```text
/// /// The router served on 127.0.0.1 port 0, over TLS when `tls`; stopped when dropped.
/// async fn start(tls: bool) -> impl AxumServer { .. }
/// h2_testkit::axum_tests!(
///     adapter: h2_tokio,
///     runtime: h2_tokio::Tokio,
///     test: tokio::test(flavor = "multi_thread", worker_threads = 2),
///     start: start,
/// );
/// ```
///
/// The curl tests are the functions of [the module](crate::axum); the client test is written
/// here, on the adapter's own `Client`, `client::upgrade` and `tls`.
#[macro_export]
macro_rules! axum_tests {
    (adapter: $a:ident, runtime: $rt:ty, test: $test:meta, start: $start:expr $(,)?) => {
        $crate::axum_tests!(@curl $rt, $test, $start, false,
            curl_http11_reaches_the_router_through_the_tower_http_layer);
        $crate::axum_tests!(@curl $rt, $test, $start, false,
            curl_h2c_prior_knowledge_runs_axum_extractors);
        $crate::axum_tests!(@curl $rt, $test, $start, false,
            curl_h2c_upgrade_is_answered_by_axum_over_http2);
        $crate::axum_tests!(@curl $rt, $test, $start, true,
            curl_tls_alpn_selects_h2_or_http11_for_axum);

        #[$test]
        async fn our_client_talks_to_axum_over_h2c_upgrade_and_tls() {
            use $crate::axum::{read, request, AxumServer};
            use $crate::api::http::{StatusCode, Version};
            use $a::{Body, Client};
            $crate::axum::bounded::<$rt>(async {
                let plain = $start(false).await;
                let tls = $start(true).await;
                let served_by = Some(plain.served_by().to_owned());

                // h2c by prior knowledge, several requests on one connection.
                let client = Client::connect(plain.addr()).await.expect("connect");
                let root = client
                    .send(request("GET", plain.url("/"), Body::empty()))
                    .await
                    .expect("GET /");
                assert_eq!(root.version(), Version::HTTP_2);
                let hello = b"hello from axum\n".to_vec();
                assert_eq!(read(root).await, (StatusCode::OK, served_by.clone(), hello));
                let name = stringify!($a);
                let greet = Body::from(format!(r#"{{"name":"{name}"}}"#));
                let greet = client
                    .send(request("POST", plain.url("/greet"), greet))
                    .await
                    .expect("POST /greet");
                let greeting = format!(r#"{{"greeting":"hello, {name}"}}"#).into_bytes();
                assert_eq!(
                    read(greet).await,
                    (StatusCode::OK, served_by.clone(), greeting)
                );
                // A streamed request body, echoed by axum as it arrives.
                let sent = $crate::interop::pattern(1 << 20);
                let echo = Body::from(sent.clone());
                let echo = client
                    .send(request("POST", plain.url("/echo"), echo))
                    .await
                    .expect("POST /echo");
                let (status, header, body) = read(echo).await;
                assert_eq!((status, header), (StatusCode::OK, served_by.clone()));
                assert!(body == sent, "echoed {} bytes, differ from sent", body.len());
                client.close().await;

                // `Upgrade: h2c`: the first answer comes on stream 1, the next over HTTP/2.
                let first = request("GET", plain.url("/version"), Body::empty());
                let (upgraded, response) = $a::client::upgrade(plain.addr(), first)
                    .await
                    .expect("upgrade");
                let version = b"HTTP/2.0\n".to_vec();
                assert_eq!(
                    read(response).await,
                    (StatusCode::OK, served_by.clone(), version)
                );
                let sum = upgraded
                    .send(request("GET", plain.url("/add?a=20&b=22"), Body::empty()))
                    .await
                    .expect("GET /add");
                let sum_body = br#"{"sum":42}"#.to_vec();
                assert_eq!(
                    read(sum).await,
                    (StatusCode::OK, served_by.clone(), sum_body)
                );
                upgraded.close().await;

                // h2 over TLS (ALPN), the self-signed certificate accepted as curl -k does.
                let insecure = $a::tls::insecure_client_config();
                let client = Client::connect_tls(tls.addr(), "localhost", insecure)
                    .await
                    .expect("connect_tls");
                let version = client
                    .send(request("GET", tls.url("/version"), Body::empty()))
                    .await
                    .expect("GET /version over TLS");
                let h2 = b"HTTP/2.0\n".to_vec();
                assert_eq!(read(version).await, (StatusCode::OK, served_by.clone(), h2));
                let missing = client
                    .send(request("GET", tls.url("/nothing"), Body::empty()))
                    .await
                    .expect("GET /nothing over TLS");
                assert_eq!(
                    read(missing).await,
                    (StatusCode::NOT_FOUND, served_by.clone(), Vec::new())
                );
                client.close().await;
            })
            .await
        }
    };
    (@curl $rt:ty, $test:meta, $start:expr, $tls:expr, $name:ident) => {
        #[$test]
        async fn $name() {
            if $crate::interop::require_curl().is_none() {
                return;
            }
            $crate::axum::bounded::<$rt>(async {
                let server = $start($tls).await;
                $crate::axum::$name(&server).await
            })
            .await
        }
    };
}
