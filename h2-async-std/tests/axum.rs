//! axum on async-std: an axum `Router` under tower-http's `SetResponseHeaderLayer`, served by
//! `h2_async_std::Server::serve_service` as a tower `Service` (h2-tokio's examples/axum.rs and
//! tests/axum.rs, on this runtime). axum is built without its server and without tokio (no
//! `tokio`, `http1` or `http2` feature): the router is plain futures, polled by our connection
//! tasks on async-std's executor. The server runs in the test process on 127.0.0.1 port 0
//! (cleartext, and TLS with a self-signed certificate); curl (HTTP/1.1, h2c by prior knowledge
//! and by `Upgrade: h2c`, h2 and HTTP/1.1 over TLS by ALPN) and our async-std `Client` (h2c,
//! `Upgrade: h2c`, TLS) check status, body, extractors and the layer's header. A missing curl
//! fails the test (`h2_testkit::interop::require_curl`); every curl run and every test is
//! bounded.

use async_std::future::timeout;
use axum::extract::{Query, Request as AxumRequest};
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, post};
use axum::{Json, Router};
use h2_async_std::{Body, Client, Server, ShutdownHandle};
use h2_testkit::interop::{self, Output, Scratch};
use http::{Request, Response, StatusCode, Version};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

/// Set on every response by the tower-http layer.
const SERVED_BY: &str = "x-served-by";
const SERVED_BY_VALUE: &str = "axum on h2-async-std";
/// The longest one test may take.
const TEST_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// The application: plain axum, nothing of ours (the routes of h2-tokio's examples/axum.rs).

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello from axum\n" }))
        .route(
            "/version",
            get(|version: Version| async move { format!("{version:?}\n") }),
        )
        .route("/add", get(add))
        .route("/greet", post(greet))
        // Streams: axum::body::Body wraps ours, and the server wraps axum's again.
        .route(
            "/echo",
            post(|req: AxumRequest| async move { req.into_body() }),
        )
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(SERVED_BY),
            HeaderValue::from_static(SERVED_BY_VALUE),
        ))
}

#[derive(Deserialize)]
struct Operands {
    a: i64,
    b: i64,
}

#[derive(Serialize)]
struct Sum {
    sum: i64,
}

async fn add(Query(Operands { a, b }): Query<Operands>) -> Json<Sum> {
    Json(Sum {
        sum: a.saturating_add(b),
    })
}

#[derive(Deserialize)]
struct Greet {
    name: String,
}

#[derive(Serialize)]
struct Greeting {
    greeting: String,
}

async fn greet(Json(Greet { name }): Json<Greet>) -> Json<Greeting> {
    Json(Greeting {
        greeting: format!("hello, {name}"),
    })
}

// ---------------------------------------------------------------------------------------------
// The server, in this process.

/// [`app`] served on 127.0.0.1 port 0, over TLS (ALPN h2 and http/1.1) when `tls`; shut down
/// when dropped.
struct Running {
    addr: SocketAddr,
    tls: bool,
    stop: ShutdownHandle,
}

impl Running {
    async fn start(tls: bool) -> Running {
        let mut server = Server::bind("127.0.0.1:0").await.expect("bind");
        if tls {
            let pem = h2_demo::self_signed().expect("certificate");
            let config =
                h2_async_std::tls::server_config_from_pem(&pem.cert, &pem.key).expect("TLS config");
            server = server.tls(config);
        }
        let addr = server.local_addr().expect("addr");
        let stop = server.shutdown_handle();
        async_std::task::spawn(server.serve_service(app()));
        Running { addr, tls, stop }
    }

    fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.shutdown();
    }
}

fn run(test: impl Future<Output = ()>) {
    async_std::task::block_on(async {
        timeout(TEST_LIMIT, test)
            .await
            .expect("the test finished in time")
    })
}

// ---------------------------------------------------------------------------------------------
// curl

/// One curl run: `%{http_code} %{http_version}`, the response headers and the body.
struct Answer {
    /// `200 2`, `404 1.1`, ...
    status: String,
    /// The response heads as curl dumped them.
    head: String,
    body: Vec<u8>,
    out: Output,
}

impl Answer {
    /// The value of the response header `name` (the last head's, after a 101).
    fn header(&self, name: &str) -> Option<String> {
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
    fn assert(&self, status: &str, body: &[u8]) {
        let report = || format!("{}\n--- head:\n{}", self.out.report_alone(), self.head);
        assert_eq!(self.status, status, "{}", report());
        assert_eq!(
            self.header(SERVED_BY).as_deref(),
            Some(SERVED_BY_VALUE),
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

/// curl `args` against `url` (off the executor's threads); asserts it exited 0.
async fn curl(scratch: &Scratch, url: String, args: &[&str]) -> Answer {
    let curl = interop::which("curl").expect("checked by require_curl");
    let body_path = scratch.path("curl.body");
    let head_path = scratch.path("curl.head");
    let mut cmd = Command::new(curl);
    cmd.args(["--silent", "--show-error", "--max-time", "20", "--output"])
        .arg(&body_path)
        .arg("--dump-header")
        .arg(&head_path)
        .args(["--write-out", "%{http_code} %{http_version}"])
        .args(args)
        .arg(&url);
    let out = async_std::task::spawn_blocking(move || interop::run(&mut cmd)).await;
    assert!(
        out.status.success(),
        "curl {args:?} {url}:\n{}",
        out.report_alone()
    );
    Answer {
        status: out.text(),
        head: std::fs::read_to_string(&head_path).expect("curl wrote the head"),
        body: std::fs::read(&body_path).expect("curl wrote the body"),
        out,
    }
}

/// Writes `len` bytes of [`interop::pattern`] to a scratch file for curl's `--data-binary @`.
fn upload(scratch: &Scratch, len: usize) -> (String, Vec<u8>) {
    let sent = interop::pattern(len);
    let path = scratch.path("upload.bin");
    std::fs::write(&path, &sent).expect("write upload");
    (format!("@{}", path.display()), sent)
}

#[test]
fn curl_http11_reaches_the_router_through_the_tower_http_layer() {
    if interop::require_curl().is_none() {
        return;
    }
    run(async {
        let scratch = Scratch::new("axum_async_std_http11");
        let server = Running::start(false).await;
        let h1 = ["--http1.1"];
        let root = curl(&scratch, server.url("/"), &h1).await;
        root.assert("200 1.1", b"hello from axum\n");
        let version = curl(&scratch, server.url("/version"), &h1).await;
        version.assert("200 1.1", b"HTTP/1.1\n");
        // axum's fallback answers, and the layer still applies.
        let missing = curl(&scratch, server.url("/no-such-route"), &h1).await;
        missing.assert("404 1.1", b"");
        // 1 MB through axum both ways: our request body read by axum, axum's body sent by us.
        let (data, sent) = upload(&scratch, 1 << 20);
        let echo = curl(
            &scratch,
            server.url("/echo"),
            &["--http1.1", "--data-binary", &data],
        )
        .await;
        echo.assert("200 1.1", &sent);
    });
}

#[test]
fn curl_h2c_prior_knowledge_runs_axum_extractors() {
    if interop::require_curl().is_none() {
        return;
    }
    run(async {
        let scratch = Scratch::new("axum_async_std_h2c");
        let server = Running::start(false).await;
        let h2 = "--http2-prior-knowledge";
        let root = curl(&scratch, server.url("/"), &[h2]).await;
        root.assert("200 2", b"hello from axum\n");
        let version = curl(&scratch, server.url("/version"), &[h2]).await;
        version.assert("200 2", b"HTTP/2.0\n");
        // Query in, Json out.
        let sum = curl(&scratch, server.url("/add?a=2&b=40"), &[h2]).await;
        sum.assert("200 2", br#"{"sum":42}"#);
        assert_eq!(
            sum.header("content-type").as_deref(),
            Some("application/json")
        );
        // An extractor's rejection is axum's 400, through the layer too.
        let bad = curl(&scratch, server.url("/add?a=two&b=40"), &[h2]).await;
        assert_eq!(bad.status, "400 2", "{}", bad.out.report_alone());
        assert_eq!(bad.header(SERVED_BY).as_deref(), Some(SERVED_BY_VALUE));
        // Json in, Json out.
        let greet_args = [
            h2,
            "-H",
            "content-type: application/json",
            "--data",
            r#"{"name":"curl"}"#,
        ];
        let greet = curl(&scratch, server.url("/greet"), &greet_args).await;
        greet.assert("200 2", br#"{"greeting":"hello, curl"}"#);
        let (data, sent) = upload(&scratch, 1 << 20);
        let echo = curl(&scratch, server.url("/echo"), &[h2, "--data-binary", &data]).await;
        echo.assert("200 2", &sent);
    });
}

#[test]
fn curl_h2c_upgrade_is_answered_by_axum_over_http2() {
    if interop::require_curl().is_none() {
        return;
    }
    run(async {
        let scratch = Scratch::new("axum_async_std_upgrade");
        let server = Running::start(false).await;
        // `--http2` on http:// asks for `Upgrade: h2c`; the answer comes on stream 1.
        let version = curl(&scratch, server.url("/version"), &["--http2"]).await;
        version.assert("200 2", b"HTTP/2.0\n");
        assert!(
            version.head.contains("101"),
            "no 101 Switching Protocols:\n{}",
            version.head
        );
    });
}

#[test]
fn curl_tls_alpn_selects_h2_or_http11_for_axum() {
    if interop::require_curl().is_none() {
        return;
    }
    run(async {
        let scratch = Scratch::new("axum_async_std_tls");
        let server = Running::start(true).await;
        let h2 = curl(
            &scratch,
            server.url("/version"),
            &["--insecure", "--http2", "--verbose"],
        )
        .await;
        h2.assert("200 2", b"HTTP/2.0\n");
        assert!(
            h2.out.stderr.contains("ALPN: server accepted h2")
                || h2.out.stderr.contains("ALPN, server accepted to use h2"),
            "ALPN did not select h2:\n{}",
            h2.out.report_alone()
        );
        let sum = curl(
            &scratch,
            server.url("/add?a=-1&b=1"),
            &["--insecure", "--http2"],
        )
        .await;
        sum.assert("200 2", br#"{"sum":0}"#);
        let h1 = curl(&scratch, server.url("/"), &["--insecure", "--http1.1"]).await;
        h1.assert("200 1.1", b"hello from axum\n");
    });
}

// ---------------------------------------------------------------------------------------------
// Our async-std client

/// `response`'s status, the layer's header and its body read whole.
async fn read(response: Response<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    let status = response.status();
    let served_by = response
        .headers()
        .get(SERVED_BY)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.into_body().bytes().await.expect("body");
    (status, served_by, body.to_vec())
}

fn request(method: &str, url: String, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(body)
        .expect("request")
}

#[test]
fn our_client_talks_to_axum_over_h2c_upgrade_and_tls() {
    run(async {
        let plain = Running::start(false).await;
        let tls = Running::start(true).await;
        let served_by = Some(SERVED_BY_VALUE.to_owned());

        // h2c by prior knowledge, several requests on one connection.
        let client = Client::connect(plain.addr).await.expect("connect");
        let root = client
            .send(request("GET", plain.url("/"), Body::empty()))
            .await
            .expect("GET /");
        assert_eq!(root.version(), Version::HTTP_2);
        let hello = b"hello from axum\n".to_vec();
        assert_eq!(read(root).await, (StatusCode::OK, served_by.clone(), hello));
        let greet = Body::from(r#"{"name":"h2-async-std"}"#);
        let greet = client
            .send(request("POST", plain.url("/greet"), greet))
            .await
            .expect("POST /greet");
        let greeting = br#"{"greeting":"hello, h2-async-std"}"#.to_vec();
        assert_eq!(
            read(greet).await,
            (StatusCode::OK, served_by.clone(), greeting)
        );
        // A streamed request body, echoed by axum as it arrives.
        let sent = interop::pattern(1 << 20);
        let echo = client
            .send(request(
                "POST",
                plain.url("/echo"),
                Body::from(sent.clone()),
            ))
            .await
            .expect("POST /echo");
        let (status, header, body) = read(echo).await;
        assert_eq!((status, header), (StatusCode::OK, served_by.clone()));
        assert!(
            body == sent,
            "echoed {} bytes, differ from sent",
            body.len()
        );
        client.close().await;

        // `Upgrade: h2c`: the first answer comes on stream 1, the next over HTTP/2.
        let first = request("GET", plain.url("/version"), Body::empty());
        let (upgraded, response) = h2_async_std::client::upgrade(plain.addr, first)
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
        let insecure = h2_async_std::tls::insecure_client_config();
        let client = Client::connect_tls(tls.addr, "localhost", insecure)
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
    });
}
