//! The axum example (examples/axum.rs): an axum `Router` under tower-http's
//! `SetResponseHeaderLayer`, served by our `Server` as a tower `Service`. The compiled example
//! runs as a child process on 127.0.0.1 port 0 (port read from its first line), and curl
//! (HTTP/1.1, h2c by prior knowledge and by `Upgrade: h2c`, h2 and HTTP/1.1 over TLS by ALPN)
//! and our `Client` (h2c, `Upgrade: h2c`, TLS) check status, body and the layer's header. A
//! missing curl fails the test (`h2_testkit::interop::require_curl`). Every process is killed
//! when its test ends; every peer run and every client exchange is bounded.

use h2_testkit::interop::{self, Output, Scratch, ServerProcess, ServerSpec};
use h2_tokio::{Body, Client};
use http::{Request, Response, StatusCode, Version};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const AXUM: ServerSpec = ServerSpec::new("h2-tokio", "axum");
/// Set on every response by the example's tower-http layer.
const SERVED_BY: &str = "x-served-by";
const SERVED_BY_VALUE: &str = "axum on h2-tokio";
/// The longest our client's exchanges with the example may take, all together.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// One curl run: `%{http_code} %{http_version}`, the response headers and the body.
struct Answer {
    /// `200 2`, `404 1.1`, ...
    status: String,
    /// The final response's head as curl dumped it.
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
}

/// curl `args` against `path` of `server`; asserts it exited 0.
fn curl(server: &ServerProcess, scratch: &Scratch, path: &str, args: &[&str]) -> Answer {
    let curl = interop::which("curl").expect("checked by require_curl");
    let body_path = scratch.path("curl.body");
    let head_path = scratch.path("curl.head");
    let out = interop::run(
        Command::new(curl)
            .args(["--silent", "--show-error", "--max-time", "20", "--output"])
            .arg(&body_path)
            .arg("--dump-header")
            .arg(&head_path)
            .args(["--write-out", "%{http_code} %{http_version}"])
            .args(args)
            .arg(server.url(path)),
    );
    assert!(
        out.status.success(),
        "curl {args:?} {path}:\n{}",
        out.report(server)
    );
    Answer {
        status: out.text(),
        head: std::fs::read_to_string(&head_path).expect("curl wrote the head"),
        body: std::fs::read(&body_path).expect("curl wrote the body"),
        out,
    }
}

/// Asserts `answer` is `status` (`"200 2"`), carries the layer's header and has `body`.
fn assert_answer(answer: &Answer, server: &ServerProcess, status: &str, body: &[u8]) {
    let report = || format!("{}\n--- head:\n{}", answer.out.report(server), answer.head);
    assert_eq!(answer.status, status, "{}", report());
    assert_eq!(
        answer.header(SERVED_BY).as_deref(),
        Some(SERVED_BY_VALUE),
        "the tower-http layer's header is missing:\n{}",
        report()
    );
    assert!(
        answer.body == body,
        "body {:?}, expected {:?}:\n{}",
        String::from_utf8_lossy(&answer.body),
        String::from_utf8_lossy(body),
        report()
    );
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
    let scratch = Scratch::new("axum_http11");
    let server = ServerProcess::start(&AXUM, &scratch, &[]);
    let h1 = ["--http1.1"];

    let root = curl(&server, &scratch, "/", &h1);
    assert_answer(&root, &server, "200 1.1", b"hello from axum\n");
    let version = curl(&server, &scratch, "/version", &h1);
    assert_answer(&version, &server, "200 1.1", b"HTTP/1.1\n");
    // axum's fallback answers, and the layer still applies.
    let missing = curl(&server, &scratch, "/no-such-route", &h1);
    assert_answer(&missing, &server, "404 1.1", b"");

    // 1 MB through axum both ways: our request body read by axum, axum's body sent by us.
    let (data, sent) = upload(&scratch, 1 << 20);
    let echo = curl(
        &server,
        &scratch,
        "/echo",
        &["--http1.1", "--data-binary", &data],
    );
    assert_answer(&echo, &server, "200 1.1", &sent);
}

#[test]
fn curl_h2c_prior_knowledge_runs_axum_extractors() {
    if interop::require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("axum_h2c");
    let server = ServerProcess::start(&AXUM, &scratch, &[]);
    let h2 = "--http2-prior-knowledge";

    let root = curl(&server, &scratch, "/", &[h2]);
    assert_answer(&root, &server, "200 2", b"hello from axum\n");
    let version = curl(&server, &scratch, "/version", &[h2]);
    assert_answer(&version, &server, "200 2", b"HTTP/2.0\n");
    // Query in, Json out.
    let sum = curl(&server, &scratch, "/add?a=2&b=40", &[h2]);
    assert_answer(&sum, &server, "200 2", br#"{"sum":42}"#);
    assert_eq!(
        sum.header("content-type").as_deref(),
        Some("application/json")
    );
    // An extractor's rejection is axum's 400, through the layer too.
    let bad = curl(&server, &scratch, "/add?a=two&b=40", &[h2]);
    assert_eq!(bad.status, "400 2", "{}", bad.out.report(&server));
    assert_eq!(bad.header(SERVED_BY).as_deref(), Some(SERVED_BY_VALUE));
    // Json in, Json out.
    let json = ["-H", "content-type: application/json"];
    let greet_args = [h2, json[0], json[1], "--data", r#"{"name":"curl"}"#];
    let greet = curl(&server, &scratch, "/greet", &greet_args);
    assert_answer(&greet, &server, "200 2", br#"{"greeting":"hello, curl"}"#);

    let (data, sent) = upload(&scratch, 1 << 20);
    let echo = curl(&server, &scratch, "/echo", &[h2, "--data-binary", &data]);
    assert_answer(&echo, &server, "200 2", &sent);
}

#[test]
fn curl_h2c_upgrade_is_answered_by_axum_over_http2() {
    if interop::require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("axum_upgrade");
    let server = ServerProcess::start(&AXUM, &scratch, &[]);
    // `--http2` on http:// asks for `Upgrade: h2c`; the answer comes on stream 1.
    let version = curl(&server, &scratch, "/version", &["--http2"]);
    assert_answer(&version, &server, "200 2", b"HTTP/2.0\n");
    assert!(
        version.head.contains("101"),
        "no 101 Switching Protocols:\n{}",
        version.head
    );
}

#[test]
fn curl_tls_alpn_selects_h2_or_http11_for_axum() {
    if interop::require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("axum_tls");
    let server = ServerProcess::start(&AXUM, &scratch, &["--tls"]);

    let h2 = curl(
        &server,
        &scratch,
        "/version",
        &["--insecure", "--http2", "--verbose"],
    );
    assert_answer(&h2, &server, "200 2", b"HTTP/2.0\n");
    assert!(
        h2.out.stderr.contains("ALPN: server accepted h2")
            || h2.out.stderr.contains("ALPN, server accepted to use h2"),
        "ALPN did not select h2:\n{}",
        h2.out.report(&server)
    );
    let sum = curl(
        &server,
        &scratch,
        "/add?a=-1&b=1",
        &["--insecure", "--http2"],
    );
    assert_answer(&sum, &server, "200 2", br#"{"sum":0}"#);

    let h1 = curl(&server, &scratch, "/", &["--insecure", "--http1.1"]);
    assert_answer(&h1, &server, "200 1.1", b"hello from axum\n");
}

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
    let scratch = Scratch::new("axum_client");
    let plain = ServerProcess::start(&AXUM, &scratch, &[]);
    let tls = ServerProcess::start(&AXUM, &scratch, &["--tls"]);
    let plain_addr = SocketAddr::from(([127, 0, 0, 1], plain.port()));
    let tls_addr = SocketAddr::from(([127, 0, 0, 1], tls.port()));
    let served_by = Some(SERVED_BY_VALUE.to_owned());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let exchanges = async {
        // h2c by prior knowledge, several requests on one connection.
        let client = Client::connect(plain_addr).await.expect("connect");
        let root = client
            .send(request("GET", plain.url("/"), Body::empty()))
            .await
            .expect("GET /");
        assert_eq!(root.version(), Version::HTTP_2);
        let root = read(root).await;
        assert_eq!(
            root,
            (
                StatusCode::OK,
                served_by.clone(),
                b"hello from axum\n".to_vec()
            )
        );
        let greet = Body::from(r#"{"name":"h2-tokio"}"#);
        let greet = client
            .send(request("POST", plain.url("/greet"), greet))
            .await
            .expect("POST /greet");
        let greeting = br#"{"greeting":"hello, h2-tokio"}"#.to_vec();
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
        let (upgraded, response) = h2_tokio::client::upgrade(plain_addr, first)
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

        // h2 over TLS (ALPN), the example's self-signed certificate accepted as curl -k does.
        let insecure = h2_tokio::tls::insecure_client_config();
        let client = Client::connect_tls(tls_addr, "localhost", insecure)
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
    };
    rt.block_on(async {
        tokio::time::timeout(CLIENT_LIMIT, exchanges)
            .await
            .expect("the exchanges finished in time")
    });
}
