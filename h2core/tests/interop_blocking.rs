//! Interop: the `blocking_server` example (HTTP/2 by prior knowledge, RFC 9113 §3.3) against
//! real peers: curl, nghttp, h2load (nghttp2) and python-hyper's sans-IO `h2`.
//!
//! Each test starts its own server on 127.0.0.1 port 0, so the tests run in parallel. A peer
//! that is not installed makes its tests pass saying `skipping: <tool> not installed`
//! (`scripts/test.sh` installs them). Every process a test spawns is killed when the test ends,
//! assertion failure included, and every peer run is bounded by a timeout.

// Tests own the clock: the deadlines here bound real processes (clippy.toml forbids
// `Instant::now` only to keep it out of the sans-IO core).
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// Upper bound for one peer run; a healthy run takes well under a second.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Harness: the server binary, the server process, peer processes, scratch files.

/// Builds the example once for the whole file (with the profile this test was built with) and
/// returns its path. Integration tests cannot depend on examples, so we ask cargo.
fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/; the example lands in
        // <target>/<profile>/examples/. That holds whatever CARGO_TARGET_DIR says.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable is in <target>/<profile>/deps");
        let mut build = Command::new(env!("CARGO"));
        build.args([
            "build",
            "--quiet",
            "-p",
            "h2core",
            "--example",
            "blocking_server",
        ]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let out = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build --example blocking_server failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = profile_dir
            .join("examples")
            .join(format!("blocking_server{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "built, but {} is missing", bin.display());
        bin
    })
}

/// A running `blocking_server`; killed on drop.
struct Server {
    child: Child,
    port: u16,
    stderr_path: PathBuf,
    // Kept open so a late println! in the server cannot fail on a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(scratch: &Scratch) -> Server {
        let stderr_path = scratch.path("server.stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("create server stderr file");
        let mut child = Command::new(server_binary())
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn blocking_server");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        // Read the first line on a thread, so a server that never prints cannot hang the test.
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            let read = stdout.read_line(&mut line);
            let _ = tx.send((read.map(|_| line), stdout));
        });
        let first = rx.recv_timeout(Duration::from_secs(10));
        let (line, stdout) = match first {
            Ok((Ok(line), stdout)) => (line, stdout),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                panic!(
                    "blocking_server did not print its address ({other:?}); stderr:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        };
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unexpected first line from blocking_server: {line:?}");
        };
        Server {
            child,
            port,
            stderr_path,
            _stdout: stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the server wrote on stderr so far, for failure messages.
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory for one test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "h2core-interop-{}-{}-{test}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The output of a peer run.
struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
}

impl Output {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything about the run, for an assertion message.
    fn report(&self, server: &Server) -> String {
        format!(
            "status: {}\n--- stdout (last 4000 bytes):\n{}\n--- stderr:\n{}\n--- server stderr:\n{}",
            self.status,
            tail(&self.text(), 4000),
            self.stderr,
            server.stderr()
        )
    }
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Kills a peer process on drop, so a panicking test leaves nothing running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a peer to completion, killing it after `PEER_TIMEOUT`.
fn run(cmd: &mut Command) -> Output {
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut child = KillOnDrop(child);
    let mut stdout = child.0.stdout.take().expect("piped stdout");
    let mut stderr = child.0.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for peer") {
            break status;
        }
        if started.elapsed() > PEER_TIMEOUT {
            drop(child);
            panic!("{cmd:?} did not finish within {PEER_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// The path of `tool` if it is an executable on `PATH`.
fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// `which(tool)`, printing the skip message when it is absent.
fn require(tool: &str) -> Option<PathBuf> {
    let found = which(tool);
    if found.is_none() {
        println!("skipping: {tool} not installed");
    }
    found
}

/// curl built with HTTP/2 (libcurl with nghttp2), else the skip message.
fn require_curl() -> bool {
    let Some(curl) = require("curl") else {
        return false;
    };
    let version = Command::new(curl).arg("--version").output();
    let http2 = version.is_ok_and(|v| {
        String::from_utf8_lossy(&v.stdout)
            .lines()
            .any(|l| l.starts_with("Features:") && l.split_whitespace().any(|f| f == "HTTP2"))
    });
    if !http2 {
        println!("skipping: curl without HTTP2 support");
    }
    http2
}

/// python3 with python-hyper's `h2` importable.
fn require_python_h2() -> Option<PathBuf> {
    let python = require("python3")?;
    let probe = Command::new(&python)
        .args(["-c", "import h2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        println!("skipping: python h2 not installed (pip install h2)");
        return None;
    }
    Some(python)
}

/// Bytes that are not all the same, so an echo that reorders or drops a chunk is caught.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            // xorshift32
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// curl (libcurl with nghttp2), --http2-prior-knowledge.

fn curl(server: &Server, scratch: &Scratch, path: &str, extra: &[&str]) -> (Output, Vec<u8>) {
    let curl = which("curl").expect("checked by require");
    let body_path = scratch.path("curl.body");
    let out = run(Command::new(curl)
        .args(["--http2-prior-knowledge", "--silent", "--show-error"])
        .args(["--max-time", "20", "--output"])
        .arg(&body_path)
        .args(["--write-out", "%{http_code} %{http_version}"])
        .args(extra)
        .arg(server.url(path)));
    assert!(out.status.success(), "curl {path}:\n{}", out.report(server));
    let body = std::fs::read(&body_path).expect("curl wrote the body");
    (out, body)
}

#[test]
fn curl_get_root_over_http2() {
    if !require_curl() {
        return;
    }
    let scratch = Scratch::new("curl_get_root");
    let server = Server::start(&scratch);
    let (out, body) = curl(&server, &scratch, "/", &[]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body, b"hello\n");
}

#[test]
fn curl_downloads_one_million_bytes() {
    if !require_curl() {
        return;
    }
    let scratch = Scratch::new("curl_bytes");
    let server = Server::start(&scratch);
    let (out, body) = curl(&server, &scratch, "/bytes/1000000", &[]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body.len(), 1_000_000);
    assert!(body.iter().all(|&b| b == b'x'));
}

#[test]
fn curl_post_three_megabytes_is_echoed_byte_identical() {
    if !require_curl() {
        return;
    }
    let scratch = Scratch::new("curl_echo");
    let server = Server::start(&scratch);
    // More than our 2 MiB connection window: the upload only completes if we return capacity.
    let sent = pattern(3_000_000);
    let upload = scratch.path("upload.bin");
    std::fs::write(&upload, &sent).expect("write upload");
    let data = format!("@{}", upload.display());
    let (out, body) = curl(&server, &scratch, "/echo", &["--data-binary", &data]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body.len(), sent.len());
    assert!(body == sent, "echoed body differs from the upload");
}

#[test]
fn curl_unknown_route_is_404() {
    if !require_curl() {
        return;
    }
    let scratch = Scratch::new("curl_404");
    let server = Server::start(&scratch);
    let (out, body) = curl(&server, &scratch, "/no/such/route", &[]);
    assert_eq!(out.text(), "404 2", "{}", out.report(&server));
    assert_eq!(body, b"not found\n");
}

// ---------------------------------------------------------------------------------------------
// nghttp (nghttp2-client).

/// Stream ids of `recv (stream_id=N) :status: 200` lines in `nghttp -v` output.
fn ok_streams(verbose: &str) -> Vec<u32> {
    verbose
        .lines()
        .filter(|l| l.ends_with(":status: 200"))
        .filter_map(|l| {
            let id = l.split("recv (stream_id=").nth(1)?.split(')').next()?;
            id.parse().ok()
        })
        .collect()
}

/// Stream ids of the HEADERS frames nghttp sent (its requests).
fn request_streams(verbose: &str) -> Vec<u32> {
    verbose
        .lines()
        .filter(|l| l.contains("send HEADERS frame"))
        .filter_map(|l| {
            l.split("stream_id=")
                .nth(1)?
                .split('>')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn nghttp_get_root_sees_settings_and_200() {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_root");
    let server = Server::start(&scratch);
    // nghttp's default also sends RFC 7540 PRIORITY frames on idle streams 3..11 first.
    let out = run(Command::new(nghttp).args(["-nv", &server.url("/")]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    assert!(
        text.contains("recv SETTINGS frame"),
        "{}",
        out.report(&server)
    );
    assert!(
        text.contains("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]"),
        "{}",
        out.report(&server)
    );
    assert_eq!(ok_streams(&text).len(), 1, "{}", out.report(&server));
}

#[test]
fn nghttp_multiplexes_three_requests_on_one_connection() {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_multi");
    let server = Server::start(&scratch);
    let out = run(Command::new(nghttp).args([
        "-nv",
        &server.url("/"),
        &server.url("/bytes/100000"),
        &server.url("/bytes/10"),
    ]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    assert_eq!(
        text.matches("] Connected").count(),
        1,
        "{}",
        out.report(&server)
    );
    let mut requested = request_streams(&text);
    let mut answered = ok_streams(&text);
    requested.sort_unstable();
    answered.sort_unstable();
    // nghttp 1.52 numbers them 13, 15, 17 (its PRIORITY anchors take 3..11); what matters is
    // three distinct client streams, each answered with 200.
    assert_eq!(requested.len(), 3, "{}", out.report(&server));
    assert_eq!(answered, requested, "{}", out.report(&server));
    assert!(requested.iter().all(|id| id % 2 == 1));
}

#[test]
fn nghttp_tiny_windows_download_respects_flow_control() {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_windows");
    let server = Server::start(&scratch);
    // Stream window 2^10-1 and connection window 2^12-1 (§6.9): a million bytes need about a
    // thousand WINDOW_UPDATEs, and no DATA frame may exceed the stream window.
    let out = run(Command::new(nghttp).args([
        "-nv",
        "-w",
        "10",
        "-W",
        "12",
        &server.url("/bytes/1000000"),
    ]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    assert!(
        text.contains("[SETTINGS_INITIAL_WINDOW_SIZE(0x04):1023]"),
        "nghttp did not announce the small window:\n{}",
        out.report(&server)
    );
    let data_lengths: Vec<usize> = text
        .lines()
        .filter(|l| l.contains("recv DATA frame <length="))
        .filter_map(|l| l.split("length=").nth(1)?.split(',').next()?.parse().ok())
        .collect();
    let total: usize = data_lengths.iter().sum();
    let largest = data_lengths.iter().copied().max().unwrap_or(0);
    let updates = text.matches("send WINDOW_UPDATE frame").count();
    assert_eq!(total, 1_000_000, "{}", out.report(&server));
    assert!(
        largest <= 1023,
        "DATA frame of {largest} bytes beyond the 1023-byte stream window"
    );
    assert!(
        updates > 100,
        "only {updates} WINDOW_UPDATEs sent by nghttp"
    );
    assert_eq!(ok_streams(&text).len(), 1, "{}", out.report(&server));
    println!(
        "{} DATA frames, {updates} WINDOW_UPDATEs, {:?}",
        data_lengths.len(),
        out.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// h2load (nghttp2-client).

#[test]
fn h2load_twenty_thousand_requests_all_succeed() {
    let Some(h2load) = require("h2load") else {
        return;
    };
    let scratch = Scratch::new("h2load");
    let server = Server::start(&scratch);
    // 10 connections × 10 concurrent streams each.
    let out =
        run(Command::new(h2load).args(["-n", "20000", "-c", "10", "-m", "10", &server.url("/")]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    assert!(
        text.contains("20000 succeeded, 0 failed, 0 errored"),
        "{}",
        out.report(&server)
    );
    assert!(
        text.contains("status codes: 20000 2xx"),
        "{}",
        out.report(&server)
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("finished in")) {
        println!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// python-hyper h2 (sans-IO), driven by tests/interop/py_client.py.

fn py_client(mode: &str) {
    let Some(python) = require_python_h2() else {
        return;
    };
    let scratch = Scratch::new(&format!("py_{mode}"));
    let server = Server::start(&scratch);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/py_client.py");
    let out = run(Command::new(python)
        .arg(&script)
        .arg(server.port.to_string())
        .arg(mode));
    assert!(
        out.status.success(),
        "py_client.py {mode}:\n{}",
        out.report(&server)
    );
    print!("{}", out.text());
}

#[test]
fn python_h2_settings_flow_control_echo_and_goaway() {
    py_client("flow");
}

#[test]
fn python_h2_ping_is_acked_with_same_payload() {
    py_client("ping");
}
