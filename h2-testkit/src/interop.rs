//! Interop with real peers, shared by h2core's `blocking_server` and every adapter.
//!
//! Each adapter ships a demo server and client with the same routes and flags (issue 6 and 7):
//! `--example server -- --listen ADDR [--tls]` printing `listening on ADDR` first, and
//! `--example client -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...`. The tests here
//! start those binaries and point curl, nghttp, nghttpd, h2load and python-hyper's `h2` at
//! them, so an adapter's interop test file is one call of [`interop_tests!`](crate::interop_tests),
//! which expands to the whole list of one-line tests:
//!
//! ```text
//! h2_testkit::interop_tests!(
//!     server: ServerSpec::new("h2-tokio", "server"),
//!     client: ClientSpec::new("h2-tokio", "client"),
//!     tls: true,
//! );
//! ```
//!
//! (`h2core`'s `blocking_server` runs a subset, listed by hand.) The tonic example
//! (`h2-grpc-example`) starts its own binary with [`ServerProcess::spawn`] and takes gRPC's
//! Python implementation as its peer ([`require_python_grpc`]).
//!
//! Every test starts its own server on 127.0.0.1 port 0, so tests run in parallel. A peer that
//! is missing (or a curl without HTTP2) fails its test, naming the peer and how to install it
//! (`scripts/test.sh` installs them all, Python's `h2` in a venv it hands over as
//! [`PYTHON`]), so a green run cannot mean the peers were never reached. On a developer's
//! machine [`ALLOW_MISSING_PEERS`]`=1` turns those failures into skips; every lookup, found or
//! skipped, is a line of the [`PEER_LOG`], which `scripts/test.sh` sums up. Every process a test
//! spawns is killed when the test ends, assertion failure included, and every peer run is
//! bounded by [`PEER_TIMEOUT`].

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// Upper bound for one peer run; a healthy run takes well under a few seconds.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Harness: example binaries, the server process, peer processes, scratch files.

/// A demo server of the workspace: `cargo run -p PACKAGE --example EXAMPLE -- --listen ADDR`,
/// whose first line on stdout is `listening on ADDR`.
#[derive(Debug, Clone, Copy)]
pub struct ServerSpec {
    /// The cargo package.
    pub package: &'static str,
    /// The example's name.
    pub example: &'static str,
}

impl ServerSpec {
    /// The example `example` of `package`.
    pub const fn new(package: &'static str, example: &'static str) -> ServerSpec {
        ServerSpec { package, example }
    }
}

/// A demo client of the workspace:
/// `--example EXAMPLE -- [--upgrade] [--insecure] [-X METHOD] [-d DATA] URL...`, body on stdout,
/// non-zero exit status on any failure.
#[derive(Debug, Clone, Copy)]
pub struct ClientSpec {
    /// The cargo package.
    pub package: &'static str,
    /// The example's name.
    pub example: &'static str,
}

impl ClientSpec {
    /// The example `example` of `package`.
    pub const fn new(package: &'static str, example: &'static str) -> ClientSpec {
        ClientSpec { package, example }
    }
}

/// Builds an example once per test process (with the profile the calling test was built with)
/// and returns its path. Integration tests cannot depend on examples, so we ask cargo.
pub fn example_binary(package: &str, example: &str) -> PathBuf {
    build_once(package, "--example", example)
}

/// Builds the binary `bin` of another workspace package (an example program that is a crate of
/// its own, such as the gRPC one) once per test process, as [`example_binary`] does.
pub fn package_binary(package: &str, bin: &str) -> PathBuf {
    build_once(package, "--bin", bin)
}

/// `cargo build -p package KIND name` (`--example` or `--bin`) once per test process.
fn build_once(package: &str, kind: &str, example: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<(String, String), PathBuf>>> = Mutex::new(None);
    // Held across the build: parallel tests wait for one build rather than racing cargo.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    let key = (package.to_owned(), format!("{kind} {example}"));
    if let Some(bin) = built.get(&key) {
        return bin.clone();
    }
    // A test runs from <target>/<profile>/deps/; examples land in <target>/<profile>/examples/.
    // That holds whatever CARGO_TARGET_DIR says.
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable is in <target>/<profile>/deps");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", package, kind, example]);
    // `cargo test` sets these for the test process. Build scripts that watch them (ring's
    // watches CARGO_MANIFEST_DIR) would see them change and rebuild, here and again in the next
    // plain `cargo test`: leave them out so this build matches the one that built the test.
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_test = matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        ) || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_");
        if set_by_cargo_test {
            build.env_remove(key);
        }
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let out = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build -p {package} {kind} {example} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = match kind {
        "--example" => profile_dir.join("examples"),
        _ => profile_dir.to_path_buf(),
    };
    let bin = dir.join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "built, but {} is missing", bin.display());
    built.insert(key, bin.clone());
    bin
}

/// A running demo server; killed on drop.
pub struct ServerProcess {
    child: Child,
    port: u16,
    tls: bool,
    stderr_path: PathBuf,
    // Kept open so a late println! in the server cannot fail on a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts `spec` on 127.0.0.1 port 0 with `args` added (e.g. `--tls`) and reads its port.
    pub fn start(spec: &ServerSpec, scratch: &Scratch, args: &[&str]) -> ServerProcess {
        let bin = example_binary(spec.package, spec.example);
        let mut cmd = Command::new(&bin);
        cmd.args(["--listen", "127.0.0.1:0"]).args(args);
        let mut server = ServerProcess::spawn(cmd, spec.example, scratch);
        server.tls = args.contains(&"--tls");
        server
    }

    /// Starts `cmd`, any server (a workspace binary, a peer's server script) whose first line
    /// on stdout is `listening on HOST:PORT`, and reads its port. `name` names its stderr file
    /// in `scratch` and the server in failure messages.
    pub fn spawn(mut cmd: Command, name: &str, scratch: &Scratch) -> ServerProcess {
        let stderr_path = scratch.path(&format!("{name}.stderr"));
        let stderr = std::fs::File::create(&stderr_path).expect("create server stderr file");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
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
                    "{name} did not print its address ({other:?}); stderr:\n{}",
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
            panic!("unexpected first line from {name}: {line:?}");
        };
        ServerProcess {
            child,
            port,
            tls: false,
            stderr_path,
            _stdout: stdout,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id (for `/proc/PID/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT{path}`, or `https://` for a server started with `--tls`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// What the server wrote on stderr so far, for failure messages.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory for one test, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory named after `test` (and this process, so parallel runs never meet).
    pub fn new(test: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "h2-interop-{}-{}-{test}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The output of a peer run.
pub struct Output {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything on stdout.
    pub stdout: Vec<u8>,
    /// Everything on stderr.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Output {
    /// stdout as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything about the run and the server's stderr, for an assertion message.
    pub fn report(&self, server: &ServerProcess) -> String {
        format!(
            "{}\n--- server stderr:\n{}",
            self.report_alone(),
            server.stderr()
        )
    }

    /// Everything about the run, for an assertion message.
    pub fn report_alone(&self) -> String {
        format!(
            "status: {}\n--- stdout (last 4000 bytes):\n{}\n--- stderr (last 8000 bytes):\n{}",
            self.status,
            tail(&self.text(), 4000),
            tail(&self.stderr, 8000),
        )
    }
}

/// The last `n` bytes of `s` (on a char boundary).
pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Kills a process on drop, so a panicking test leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a peer to completion, killing it after [`PEER_TIMEOUT`].
pub fn run(cmd: &mut Command) -> Output {
    run_with_timeout(cmd, PEER_TIMEOUT)
}

/// Runs a peer to completion with stdin closed, capturing its output; kills it and panics
/// after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
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
        if started.elapsed() > timeout {
            drop(child);
            panic!("{cmd:?} did not finish within {timeout:?}; killed");
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
pub fn which(tool: &str) -> Option<PathBuf> {
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

/// Set to `1` to let a test whose peer is missing pass, saying so and recording the skip in the
/// [`PEER_LOG`], instead of failing. For a developer's machine only: `scripts/test.sh` and CI
/// leave it unset, so there a missing peer fails its test.
pub const ALLOW_MISSING_PEERS: &str = "H2_ALLOW_MISSING_PEERS";

/// The file every peer lookup appends one `ran|skipped<TAB>PEER<TAB>TEST` line to, so
/// `scripts/test.sh` can say how many tests reached a real peer and which peers were missing.
/// Unset, the log is `<target>/peer-log.tsv`.
pub const PEER_LOG: &str = "H2_PEER_LOG";

/// The Python interpreter that has python-hyper's `h2`, and gRPC's `grpcio` and
/// `grpcio-tools` (`scripts/test.sh` points it at the
/// venv it makes, `target/peers-venv/bin/python`); unset, `python3` from `PATH`.
pub const PYTHON: &str = "H2_PYTHON";

/// True when [`ALLOW_MISSING_PEERS`] is `1`.
pub fn missing_peers_allowed() -> bool {
    std::env::var_os(ALLOW_MISSING_PEERS).is_some_and(|v| v == "1")
}

/// `<package> <test binary>::<test>`, e.g. `h2-tokio interop::curl_prior_knowledge_get_root`.
fn current_test() -> String {
    // `cargo test` sets CARGO_PKG_NAME for the test process; libtest names each test's thread
    // after the test.
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "?".into());
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.file_stem()?.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, _hash)) => name.to_owned(),
            None => stem,
        })
        .unwrap_or_else(|| "?".into());
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    format!("{package} {binary}::{test}")
}

/// Appends `outcome<TAB>peer<TAB>test` to the [`PEER_LOG`].
fn record_peer(outcome: &str, peer: &str) {
    let path = match std::env::var_os(PEER_LOG) {
        Some(path) => PathBuf::from(path),
        None => {
            // A test runs from <target>/<profile>/deps/.
            let Some(target) = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_owned()))
            else {
                return;
            };
            target.join("peer-log.tsv")
        }
    };
    let line = format!("{outcome}\t{peer}\t{}\n", current_test());
    // One short write in append mode: lines of tests running in parallel do not interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut log| log.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("cannot append to the peer log {}: {e}", path.display());
    }
}

/// How to get `peer`.
fn install_hint(peer: &str) -> &'static str {
    match peer {
        "curl" => "apt-get install curl (a build whose `curl --version` lists HTTP2 in Features)",
        "nghttp" | "h2load" => "apt-get install nghttp2-client",
        "nghttpd" => "apt-get install nghttp2-server",
        "chromium" => "apt-get install chromium (Debian's package; Ubuntu's is only a snap shim)",
        "python-h2" => {
            "python3 -m venv target/peers-venv && target/peers-venv/bin/pip install h2, then \
             export H2_PYTHON=$PWD/target/peers-venv/bin/python (scripts/test.sh does both)"
        }
        "python-grpcio" => {
            "python3 -m venv target/peers-venv && target/peers-venv/bin/pip install grpcio \
             grpcio-tools, then export H2_PYTHON=$PWD/target/peers-venv/bin/python \
             (scripts/test.sh does both)"
        }
        _ => "see scripts/test.sh",
    }
}

/// A peer was found: records that this test ran against it.
fn found_peer(peer: &str, path: PathBuf) -> Option<PathBuf> {
    record_peer("ran", peer);
    Some(path)
}

/// A peer is missing or unusable (`why`): fails the test, naming the peer and how to install
/// it; with [`ALLOW_MISSING_PEERS`] `=1`, records the skip and returns None instead.
fn missing_peer(peer: &str, why: &str) -> Option<PathBuf> {
    if !missing_peers_allowed() {
        panic!(
            "interop peer `{peer}` is required: {why}.\n  install: {}\n  scripts/test.sh \
             installs every peer; {ALLOW_MISSING_PEERS}=1 turns this failure into a recorded skip",
            install_hint(peer)
        );
    }
    println!("skipping: {peer}: {why} ({ALLOW_MISSING_PEERS}=1)");
    record_peer("skipped", peer);
    None
}

/// [`which`]`(tool)`, recorded in the [`PEER_LOG`]. A missing tool fails the calling test
/// unless [`ALLOW_MISSING_PEERS`] is set, when it is None and the skip is recorded.
pub fn require(tool: &str) -> Option<PathBuf> {
    match which(tool) {
        Some(path) => found_peer(tool, path),
        None => missing_peer(tool, "not found on PATH"),
    }
}

/// curl built with HTTP/2 (libcurl with nghttp2), as [`require`]: a curl without HTTP2 counts
/// as missing.
pub fn require_curl() -> Option<PathBuf> {
    let Some(curl) = which("curl") else {
        return missing_peer("curl", "not found on PATH");
    };
    let version = Command::new(&curl).arg("--version").output();
    let http2 = version.is_ok_and(|v| {
        String::from_utf8_lossy(&v.stdout)
            .lines()
            .any(|l| l.starts_with("Features:") && l.split_whitespace().any(|f| f == "HTTP2"))
    });
    if !http2 {
        let why = format!("{} has no HTTP2 in its Features", curl.display());
        return missing_peer("curl", &why);
    }
    found_peer("curl", curl)
}

/// A Python with python-hyper's `h2` importable ([`PYTHON`], else `python3`), as [`require`].
pub fn require_python_h2() -> Option<PathBuf> {
    let python = match std::env::var_os(PYTHON) {
        Some(python) => PathBuf::from(python),
        None => match which("python3") {
            Some(python) => python,
            None => return missing_peer("python-h2", "python3 not found on PATH"),
        },
    };
    if !is_executable(&python) {
        let why = format!("{PYTHON}={} is not an executable", python.display());
        return missing_peer("python-h2", &why);
    }
    let probe = Command::new(&python)
        .args(["-c", "import h2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        let why = format!("{} cannot `import h2`", python.display());
        return missing_peer("python-h2", &why);
    }
    found_peer("python-h2", python)
}

/// A Python with gRPC's `grpcio` and `grpcio-tools` importable ([`PYTHON`], else `python3`),
/// as [`require`]: the gRPC peer of the tonic example's interop tests (its stubs are generated
/// at test time with `python -m grpc_tools.protoc`).
pub fn require_python_grpc() -> Option<PathBuf> {
    let python = match std::env::var_os(PYTHON) {
        Some(python) => PathBuf::from(python),
        None => match which("python3") {
            Some(python) => python,
            None => return missing_peer("python-grpcio", "python3 not found on PATH"),
        },
    };
    let probe = Command::new(&python)
        .args(["-c", "import grpc, grpc_tools.protoc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        let why = format!(
            "{} cannot `import grpc, grpc_tools.protoc`",
            python.display()
        );
        return missing_peer("python-grpcio", &why);
    }
    found_peer("python-grpcio", python)
}

/// Bytes that are not all the same, so an echo that reorders or drops a chunk is caught.
pub fn pattern(len: usize) -> Vec<u8> {
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

/// A port on 127.0.0.1 that was free a moment ago, for peers that cannot bind port 0 and
/// report it (nghttpd): bind port 0, read the port, release it.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `nghttpd --no-tls` serving `docroot` on 127.0.0.1; killed on drop.
pub struct Nghttpd {
    _child: KillOnDrop,
    port: u16,
}

impl Nghttpd {
    /// Starts nghttpd and waits until it accepts connections (retrying on another port if the
    /// one picked was taken meanwhile). Fails the test if nghttpd is not installed (None, the
    /// skip recorded, under [`ALLOW_MISSING_PEERS`]).
    pub fn start(docroot: &Path, log: &Path) -> Option<Nghttpd> {
        let nghttpd = require("nghttpd")?;
        for _ in 0..3 {
            let port = free_port();
            let log = std::fs::File::create(log).expect("create nghttpd log");
            let child = Command::new(&nghttpd)
                .args(["--no-tls", "--address", "127.0.0.1", "--htdocs"])
                .arg(docroot)
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log"))
                .stderr(log)
                .spawn()
                .expect("spawn nghttpd");
            let mut child = KillOnDrop(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.0.try_wait().ok().flatten().is_some() {
                    break; // exited: most likely the port was taken; try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Nghttpd {
                        _child: child,
                        port,
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!(
            "nghttpd did not start; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

// ---------------------------------------------------------------------------------------------
// curl (libcurl with nghttp2).

/// Runs curl with `args` and the URL of `path`, the body saved to a file; asserts it exited 0.
/// `--write-out` prints `%{http_code} %{http_version}` on stdout. Returns the run and the body.
fn curl(server: &ServerProcess, scratch: &Scratch, path: &str, args: &[&str]) -> (Output, Vec<u8>) {
    let curl = which("curl").expect("checked by require_curl");
    let body_path = scratch.path("curl.body");
    let out = run(Command::new(curl)
        .args(["--silent", "--show-error", "--max-time", "20", "--output"])
        .arg(&body_path)
        .args(["--write-out", "%{http_code} %{http_version}"])
        .args(args)
        .arg(server.url(path)));
    assert!(
        out.status.success(),
        "curl {args:?} {path}:\n{}",
        out.report(server)
    );
    let body = std::fs::read(&body_path).expect("curl wrote the body");
    (out, body)
}

const PRIOR_KNOWLEDGE: &str = "--http2-prior-knowledge";

/// curl `--http2-prior-knowledge` GET / (RFC 9113 §3.3): 200 over HTTP/2, `hello\n`.
pub fn curl_get_root(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_get_root");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(&server, &scratch, "/", &[PRIOR_KNOWLEDGE]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body, b"hello\n");
}

/// curl `--http2-prior-knowledge` GET /bytes/1000000: exactly a million bytes.
pub fn curl_downloads_one_million_bytes(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_bytes");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(&server, &scratch, "/bytes/1000000", &[PRIOR_KNOWLEDGE]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body.len(), 1_000_000);
    assert!(body.iter().all(|&b| b == b'x'));
}

/// `--root DIR`: curl downloads a 1 MB file byte-identical over h2c and HTTP/1.1, a HEAD
/// over HTTP/1.1 declares its length with no body, a directory serves its index.html, a path
/// out of the root (`..` sent as is, or percent-encoded) is refused with 400, a missing file
/// is 404.
pub fn curl_serves_static_files_from_root(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_static");
    let root = scratch.path("root");
    std::fs::create_dir_all(root.join("docs")).expect("root");
    let big = pattern(1_000_000);
    std::fs::write(root.join("big.bin"), &big).expect("file");
    std::fs::write(root.join("docs/index.html"), "<p>index</p>\n").expect("file");
    std::fs::write(scratch.path("secret"), "outside").expect("file");
    let root_arg = root.to_str().expect("utf-8 path");
    let server = ServerProcess::start(spec, &scratch, &["--root", root_arg]);
    for version in [PRIOR_KNOWLEDGE, "--http1.1"] {
        let (out, body) = curl(&server, &scratch, "/big.bin", &[version]);
        assert!(out.text().starts_with("200"), "{}", out.report(&server));
        assert!(body == big, "{version}: {} bytes, not the file", body.len());
    }
    let (out, body) = curl(&server, &scratch, "/docs/", &[PRIOR_KNOWLEDGE]);
    assert!(out.text().starts_with("200"), "{}", out.report(&server));
    assert_eq!(body, b"<p>index</p>\n");
    let head = run(Command::new(which("curl").expect("curl"))
        .args(["--silent", "--head", "--http1.1", "--max-time", "20"])
        .arg(server.url("/big.bin")));
    let head_text = String::from_utf8_lossy(&head.stdout).to_ascii_lowercase();
    assert!(
        head_text.contains("content-length: 1000000"),
        "HEAD: {head_text}"
    );
    for escape in ["/../secret", "/%2e%2e/secret", "/docs%2f..%2f..%2fsecret"] {
        let (out, _) = curl(
            &server,
            &scratch,
            escape,
            &[PRIOR_KNOWLEDGE, "--path-as-is"],
        );
        assert!(
            out.text().starts_with("400"),
            "{escape}: {}",
            out.report(&server)
        );
    }
    let (out, _) = curl(&server, &scratch, "/missing.bin", &[PRIOR_KNOWLEDGE]);
    assert!(out.text().starts_with("404"), "{}", out.report(&server));
}

/// curl `--http2-prior-knowledge` POST /echo of 3 MB: more than the 2 MiB connection window,
/// so the upload only completes if the server returns capacity; echoed byte-identical.
pub fn curl_post_three_megabytes_is_echoed(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_echo");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let sent = pattern(3_000_000);
    let upload = scratch.path("upload.bin");
    std::fs::write(&upload, &sent).expect("write upload");
    let data = format!("@{}", upload.display());
    let (out, body) = curl(
        &server,
        &scratch,
        "/echo",
        &[PRIOR_KNOWLEDGE, "--data-binary", &data],
    );
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body.len(), sent.len());
    assert!(body == sent, "echoed body differs from the upload");
}

/// curl `--http2-prior-knowledge` on an unknown route: 404 `not found\n`.
pub fn curl_unknown_route_is_404(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_404");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(&server, &scratch, "/no/such/route", &[PRIOR_KNOWLEDGE]);
    assert_eq!(out.text(), "404 2", "{}", out.report(&server));
    assert_eq!(body, b"not found\n");
}

/// curl `--http2` on a cleartext URL: HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2), then the
/// response over HTTP/2.
pub fn curl_upgrade_h2c_get(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_upgrade_get");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(&server, &scratch, "/", &["--http2", "--verbose"]);
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert!(
        out.stderr.contains("Upgrade: h2c") && out.stderr.contains("101 Switching Protocols"),
        "curl did not go through the upgrade:\n{}",
        out.report(&server)
    );
    assert_eq!(body, b"hello\n");
}

/// curl `--http2` with a POST body: the upgrade request's body is read over HTTP/1.1 and
/// echoed over HTTP/2 on stream 1.
pub fn curl_upgrade_h2c_post(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_upgrade_post");
    let server = ServerProcess::start(spec, &scratch, &[]);
    // Kept small: curl 7.88 fails with "connection buffer size is too small to store data
    // following HTTP Upgrade response header" when more than 32 KiB of HTTP/2 arrive in the
    // same read as the 101 (its buffer; later curl versions fixed it). A server may send the
    // response at once (RFC 7540 §3.2), and the echo of a large body would do just that.
    let sent = pattern(16_000);
    let upload = scratch.path("upload.bin");
    std::fs::write(&upload, &sent).expect("write upload");
    let data = format!("@{}", upload.display());
    let (out, body) = curl(
        &server,
        &scratch,
        "/echo",
        &["--http2", "--verbose", "--data-binary", &data],
    );
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert!(
        out.stderr.contains("101 Switching Protocols"),
        "{}",
        out.report(&server)
    );
    assert!(
        body == sent,
        "echoed {} bytes, differ from sent",
        body.len()
    );
}

/// curl `-k --http2` over TLS: ALPN selects h2 (RFC 9113 §3.2).
pub fn curl_tls_alpn_h2(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_tls");
    let server = ServerProcess::start(spec, &scratch, &["--tls"]);
    let (out, body) = curl(
        &server,
        &scratch,
        "/bytes/100000",
        &["--insecure", "--http2", "--verbose"],
    );
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert!(
        out.stderr.contains("ALPN: server accepted h2")
            || out.stderr.contains("ALPN, server accepted to use h2"),
        "ALPN did not select h2:\n{}",
        out.report(&server)
    );
    assert_eq!(body.len(), 100_000);
}

/// `Upgrade: h2c` asked over TLS (ALPN http/1.1) is ignored: h2c is HTTP/2 over cleartext TCP
/// only (RFC 9113 §3.1), so the request is answered over HTTP/1.1, never with a 101.
pub fn curl_tls_ignores_upgrade_h2c(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_tls_upgrade");
    let server = ServerProcess::start(spec, &scratch, &["--tls"]);
    let headers = [
        "--insecure",
        "--http1.1",
        "-H",
        "Connection: Upgrade, HTTP2-Settings",
        "-H",
        "Upgrade: h2c",
        "-H",
        "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA",
    ];
    let (out, body) = curl(&server, &scratch, "/", &headers);
    assert_eq!(out.text(), "200 1.1", "{}", out.report(&server));
    assert_eq!(body, b"hello\n");
}

/// curl `-k --http1.1` over TLS: ALPN selects http/1.1 and the same routes answer.
pub fn curl_tls_alpn_http11(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_tls11");
    let server = ServerProcess::start(spec, &scratch, &["--tls"]);
    let (out, body) = curl(&server, &scratch, "/", &["--insecure", "--http1.1"]);
    assert_eq!(out.text(), "200 1.1", "{}", out.report(&server));
    assert_eq!(body, b"hello\n");
}

/// curl `--http1.1` uploads 3 MB chunked (RFC 9112 §7.1); /echo streams it back, chunked too
/// since its length is unknown, byte-identical.
pub fn curl_http11_chunked_upload(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_chunked_up");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let sent = pattern(3_000_000);
    let upload = scratch.path("upload.bin");
    std::fs::write(&upload, &sent).expect("write upload");
    let data = format!("@{}", upload.display());
    let (out, body) = curl(
        &server,
        &scratch,
        "/echo",
        &[
            "--http1.1",
            "--verbose",
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            &data,
        ],
    );
    assert_eq!(out.text(), "200 1.1", "{}", out.report(&server));
    assert!(
        out.stderr.contains("> Transfer-Encoding: chunked"),
        "curl did not upload chunked:\n{}",
        out.report(&server)
    );
    assert!(
        out.stderr
            .to_ascii_lowercase()
            .contains("< transfer-encoding: chunked"),
        "the echo was not chunked:\n{}",
        out.report(&server)
    );
    assert_eq!(body.len(), sent.len());
    assert!(body == sent, "echoed body differs from the upload");
}

/// curl `--http1.1` GET /stream: a body of unknown length goes chunked and arrives whole.
pub fn curl_http11_chunked_download(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_chunked_down");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(
        &server,
        &scratch,
        "/stream?n=3&interval_ms=10",
        &["--http1.1", "--verbose"],
    );
    assert_eq!(out.text(), "200 1.1", "{}", out.report(&server));
    assert!(
        out.stderr
            .to_ascii_lowercase()
            .contains("< transfer-encoding: chunked"),
        "{}",
        out.report(&server)
    );
    assert_eq!(
        String::from_utf8_lossy(&body),
        "event 0\nevent 1\nevent 2\n"
    );
}

/// Two URLs in one `curl --http1.1` call share one keep-alive connection (RFC 9112 §9.3).
pub fn curl_http11_keep_alive(spec: &ServerSpec) {
    let Some(curl) = require_curl() else {
        return;
    };
    let scratch = Scratch::new("curl_keepalive");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let out = run(Command::new(curl)
        .args(["--silent", "--show-error", "--verbose", "--http1.1"])
        .args(["--max-time", "20"])
        .arg(server.url("/"))
        .arg(server.url("/bytes/10")));
    assert!(out.status.success(), "{}", out.report(&server));
    assert_eq!(out.text(), "hello\nxxxxxxxxxx", "{}", out.report(&server));
    assert!(
        out.stderr.contains("Re-using existing"),
        "the second request did not reuse the connection:\n{}",
        out.report(&server)
    );
    assert_eq!(
        out.stderr.matches("Connected to").count(),
        1,
        "{}",
        out.report(&server)
    );
}

/// curl `--http2-prior-knowledge` GET /trailers: the trailer arrives after the body's header
/// section ended (RFC 9113 §8.1), and curl shows it.
pub fn curl_trailers_over_http2(spec: &ServerSpec) {
    if require_curl().is_none() {
        return;
    }
    let scratch = Scratch::new("curl_trailers");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let (out, body) = curl(
        &server,
        &scratch,
        "/trailers",
        &[PRIOR_KNOWLEDGE, "--verbose"],
    );
    assert_eq!(out.text(), "200 2", "{}", out.report(&server));
    assert_eq!(body, b"body before trailers\n");
    // `< ` alone ends the header section; the trailer is a `< ` line after it.
    let received: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("< "))
        .map(str::trim_end)
        .collect();
    let end_of_headers = received.iter().position(|l| *l == "<");
    let trailer = received.iter().position(|l| *l == "< x-checksum: 42");
    assert!(
        matches!((end_of_headers, trailer), (Some(e), Some(t)) if t > e),
        "no trailer `x-checksum: 42` after the headers:\n{}",
        out.report(&server)
    );
}

/// A long-lived /stream ("downchannel"): the response headers reach curl at once, before the
/// first DATA frame, which is an hour away. Waits for the headers (an event: curl's `-v` line),
/// never for a time, then stops curl.
pub fn curl_stream_headers_before_data(spec: &ServerSpec) {
    let Some(curl) = require_curl() else {
        return;
    };
    let scratch = Scratch::new("curl_stream");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let mut child = Command::new(curl)
        .args(["--verbose", "--no-buffer", PRIOR_KNOWLEDGE])
        .arg(server.url("/stream?n=1&interval_ms=3600000"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn curl");
    let stderr = child.stderr.take().expect("curl's stderr");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let status = loop {
        // A hang guard only: the headers go out as soon as the request is read.
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("< HTTP/2 ") => break line,
            Ok(line) => seen.push(line),
            Err(_) => break String::new(),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let mut body = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_end(&mut body);
    }
    assert_eq!(
        status.trim_end(),
        "< HTTP/2 200",
        "no response head without DATA; curl said:\n{}",
        seen.join("\n")
    );
    assert!(
        body.is_empty(),
        "DATA before the first interval: {:?}",
        String::from_utf8_lossy(&body)
    );
    drop(server);
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

/// `nghttp -nv` GET /: our SETTINGS (MAX_CONCURRENT_STREAMS 100) and one 200.
pub fn nghttp_get_root(spec: &ServerSpec) {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_root");
    let server = ServerProcess::start(spec, &scratch, &[]);
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

/// `nghttp -nv` with three URLs: one connection, three client streams, each answered 200.
pub fn nghttp_multiplexes_three_requests(spec: &ServerSpec) {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_multi");
    let server = ServerProcess::start(spec, &scratch, &[]);
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

/// `nghttp -nv -w 10 -W 12`: tiny windows (§6.9), a million bytes in frames no larger than
/// the stream window, about a thousand WINDOW_UPDATEs.
pub fn nghttp_tiny_windows_respect_flow_control(spec: &ServerSpec) {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_windows");
    let server = ServerProcess::start(spec, &scratch, &[]);
    // Stream window 2^10-1 and connection window 2^12-1.
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

/// `nghttp -nv` GET /push: a PUSH_PROMISE for /pushed.css (RFC 9113 §8.4), then both the
/// page and the pushed response with 200.
pub fn nghttp_receives_push_promise(spec: &ServerSpec) {
    let Some(nghttp) = require("nghttp") else {
        return;
    };
    let scratch = Scratch::new("nghttp_push");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let out = run(Command::new(nghttp).args(["-nv", &server.url("/push")]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    let promise = text
        .lines()
        .position(|l| l.contains("recv PUSH_PROMISE frame"));
    assert!(
        promise.is_some(),
        "no PUSH_PROMISE:\n{}",
        out.report(&server)
    );
    // nghttp prints the promised request's fields before the frame line.
    let promised_path = text
        .lines()
        .filter(|l| l.contains(":path: /pushed.css"))
        .filter_map(|l| {
            let id = l.split("recv (stream_id=").nth(1)?.split(')').next()?;
            id.parse::<u32>().ok()
        })
        .next();
    assert!(
        promised_path.is_some(),
        "PUSH_PROMISE is not for /pushed.css:\n{}",
        out.report(&server)
    );
    let promised: Vec<u32> = text
        .lines()
        .filter(|l| l.contains("promised_stream_id="))
        .filter_map(|l| {
            l.split("promised_stream_id=")
                .nth(1)?
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(promised.len(), 1, "{}", out.report(&server));
    assert_eq!(promised[0] % 2, 0, "a pushed stream is server-initiated");
    let ok = ok_streams(&text);
    assert!(
        ok.contains(&promised[0]) && ok.len() == 2,
        "page and pushed response must both be 200 (got {ok:?}):\n{}",
        out.report(&server)
    );
}

// ---------------------------------------------------------------------------------------------
// h2load (nghttp2-client).

/// `h2load -n requests -c clients -m streams` GET / over h2c: every request succeeds.
pub fn h2load_all_succeed(spec: &ServerSpec, requests: u32, clients: u32, streams: u32) {
    let Some(h2load) = require("h2load") else {
        return;
    };
    let scratch = Scratch::new("h2load");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let out = run(Command::new(h2load).args([
        "-n",
        &requests.to_string(),
        "-c",
        &clients.to_string(),
        "-m",
        &streams.to_string(),
        &server.url("/"),
    ]));
    let text = out.text();
    assert!(out.status.success(), "{}", out.report(&server));
    assert!(
        text.contains(&format!("{requests} succeeded, 0 failed, 0 errored")),
        "{}",
        out.report(&server)
    );
    assert!(
        text.contains(&format!("status codes: {requests} 2xx")),
        "{}",
        out.report(&server)
    );
    if let Some(line) = text.lines().find(|l| l.starts_with("finished in")) {
        println!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// python-hyper h2 (sans-IO), driven by interop/py_client.py of this crate.

/// Runs `interop/py_client.py PORT mode` against the server: `flow` (SETTINGS, windows, echo,
/// GOAWAY) or `ping`.
pub fn python_h2(spec: &ServerSpec, mode: &str) {
    let Some(python) = require_python_h2() else {
        return;
    };
    let scratch = Scratch::new(&format!("py_{mode}"));
    let server = ServerProcess::start(spec, &scratch, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/py_client.py");
    let out = run(Command::new(python)
        .arg(&script)
        .arg(server.port().to_string())
        .arg(mode));
    assert!(
        out.status.success(),
        "py_client.py {mode}:\n{}",
        out.report(&server)
    );
    print!("{}", out.text());
}

// ---------------------------------------------------------------------------------------------
// Our demo client against real servers.

/// Our client (h2c by prior knowledge) GETs a file from `nghttpd --no-tls`: body identical.
pub fn client_gets_file_from_nghttpd(client: &ClientSpec) {
    let scratch = Scratch::new("client_nghttpd");
    let docroot = scratch.path("htdocs");
    std::fs::create_dir_all(&docroot).expect("create docroot");
    let content = pattern(300_000);
    std::fs::write(docroot.join("file.bin"), &content).expect("write file");
    let Some(nghttpd) = Nghttpd::start(&docroot, &scratch.path("nghttpd.log")) else {
        return;
    };
    let bin = example_binary(client.package, client.example);
    let out = run(Command::new(bin)
        .arg(nghttpd.url("/file.bin"))
        .arg(nghttpd.url("/file.bin")));
    assert!(out.status.success(), "{}", out.report_alone());
    assert_eq!(
        out.stdout.len(),
        2 * content.len(),
        "{}",
        out.report_alone()
    );
    assert!(
        out.stdout[..content.len()] == content[..] && out.stdout[content.len()..] == content[..],
        "body differs from the file"
    );
    assert_eq!(
        out.stderr.matches("200 OK").count(),
        2,
        "{}",
        out.report_alone()
    );
}

/// The closing rule (RFC 9113 §6.8): a server answers our client's request and sends a PING
/// right after the response, then keeps the connection open. The client example must answer
/// the PING and send GOAWAY before it closes its side (not just exit after its last response),
/// and exit once the server stays silent (its drain deadline), successfully.
pub fn client_answers_the_servers_last_ping_before_closing(client: &ClientSpec) {
    use crate::dsl::{encode_frames, PeerFrame as P};
    use h2core::frame::{FrameType, Head, HEADER_LEN};
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut buf = bytes::BytesMut::new();
        let mut chunk = [0u8; 16 * 1024];
        let mut seen = Vec::new();
        let mut answered = false;
        let mut preface = false;
        // Bounded: the read timeout ends a client that neither sends nor closes.
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            if !preface {
                if buf.len() < h2core::preface::PREFACE.len() {
                    continue;
                }
                let _ = buf.split_to(h2core::preface::PREFACE.len());
                preface = true;
                s.write_all(&encode_frames(&[P::settings(vec![]), P::SettingsAck]))
                    .expect("write settings");
            }
            while let Some(header) = buf.first_chunk::<HEADER_LEN>() {
                let head = Head::parse(header);
                if buf.len() < HEADER_LEN + head.length as usize {
                    break;
                }
                let _ = buf.split_to(HEADER_LEN + head.length as usize);
                seen.push((head.kind, head.flags));
                if head.kind == FrameType::HEADERS && !answered {
                    answered = true;
                    let id = head.stream_id.value();
                    s.write_all(&encode_frames(&[
                        P::response(id, "200"),
                        P::data(id, "bye\n").eos(),
                        P::ping(*b"lastword"),
                    ]))
                    .expect("write response");
                }
            }
        }
        seen
    });
    let bin = example_binary(client.package, client.example);
    let out = run_with_timeout(
        Command::new(bin).arg(format!("http://{addr}/")),
        Duration::from_secs(30),
    );
    let seen = server.join().expect("server thread");
    assert!(out.status.success(), "{}", out.report_alone());
    assert_eq!(out.stdout, b"bye\n", "{}", out.report_alone());
    let ping_ack = seen
        .iter()
        .position(|&(k, f)| k == FrameType::PING && f & 0x1 != 0);
    let goaway = seen.iter().position(|&(k, _)| k == FrameType::GOAWAY);
    assert!(ping_ack.is_some(), "the PING was not answered: {seen:?}");
    assert!(goaway.is_some(), "no GOAWAY before the close: {seen:?}");
}

/// Our client `--upgrade` against our server: the first URL goes as the `Upgrade: h2c`
/// request, the others over the HTTP/2 connection that follows.
pub fn client_upgrade_against_server(client: &ClientSpec, spec: &ServerSpec) {
    let scratch = Scratch::new("client_upgrade");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let bin = example_binary(client.package, client.example);
    let out = run(Command::new(bin)
        .arg("--upgrade")
        .arg(server.url("/"))
        .arg(server.url("/bytes/5")));
    assert!(out.status.success(), "{}", out.report(&server));
    assert_eq!(out.text(), "hello\nxxxxx", "{}", out.report(&server));
    assert_eq!(
        out.stderr.matches("HTTP/2.0 200").count(),
        2,
        "{}",
        out.report(&server)
    );
    // And a POST as the upgrade request: its body goes over HTTP/1.1, the echo over HTTP/2.
    let bin = example_binary(client.package, client.example);
    let out = run(Command::new(bin)
        .args(["--upgrade", "-d", "upgrade body"])
        .arg(server.url("/echo")));
    assert!(out.status.success(), "{}", out.report(&server));
    assert_eq!(out.text(), "upgrade body", "{}", out.report(&server));
}

/// Our client `--insecure` against our server with `--tls`: ALPN h2, several URLs at once.
pub fn client_tls_against_server(client: &ClientSpec, spec: &ServerSpec) {
    let scratch = Scratch::new("client_tls");
    let server = ServerProcess::start(spec, &scratch, &["--tls"]);
    let bin = example_binary(client.package, client.example);
    let out = run(Command::new(bin)
        .arg("--insecure")
        .arg(server.url("/"))
        .arg(server.url("/bytes/100000")));
    assert!(out.status.success(), "{}", out.report(&server));
    assert_eq!(out.stdout.len(), 6 + 100_000, "{}", out.report(&server));
    assert!(out.stdout.starts_with(b"hello\n"));
    assert_eq!(
        out.stderr.matches("HTTP/2.0 200").count(),
        2,
        "{}",
        out.report(&server)
    );
}

// ---------------------------------------------------------------------------------------------
// The list every adapter runs.

/// Expands to the `#[test]` functions every adapter's `tests/interop.rs` shares, one a test
/// above, so a new adapter gets all of them (and a new test reaches every adapter) with one
/// line. `tls: true` adds the tests that start the server with `--tls` and the client with
/// `https://`; an adapter without TLS passes `false`.
///
/// ```text
/// use h2_testkit::interop::{ClientSpec, ServerSpec};
///
/// h2_testkit::interop_tests!(
///     server: ServerSpec::new("h2-tokio", "server"),
///     client: ClientSpec::new("h2-tokio", "client"),
///     tls: true,
/// );
/// ```
#[macro_export]
macro_rules! interop_tests {
    (server: $server:expr, client: $client:expr, tls: $tls:tt $(,)?) => {
        $crate::interop_tests!(@common $server, $client);
        $crate::interop_tests!(@tls $tls, $server, $client);
    };
    (@common $server:expr, $client:expr) => {
        // curl: HTTP/2 by prior knowledge.

        #[test]
        fn curl_prior_knowledge_get_root() {
            $crate::interop::curl_get_root(&$server);
        }

        // Memory: many downloads that are never read.

        #[test]
        fn unread_downloads_keep_the_server_small() {
            $crate::memory::unread_downloads_keep_the_server_small(&$server);
        }

        #[test]
        fn curl_prior_knowledge_downloads_one_million_bytes() {
            $crate::interop::curl_downloads_one_million_bytes(&$server);
        }

        #[test]
        fn curl_prior_knowledge_post_three_megabytes_is_echoed_byte_identical() {
            $crate::interop::curl_post_three_megabytes_is_echoed(&$server);
        }

        #[test]
        fn curl_serves_static_files_from_root() {
            $crate::interop::curl_serves_static_files_from_root(&$server);
        }

        #[test]
        fn curl_prior_knowledge_unknown_route_is_404() {
            $crate::interop::curl_unknown_route_is_404(&$server);
        }

        #[test]
        fn curl_prior_knowledge_trailers_arrive_after_the_body() {
            $crate::interop::curl_trailers_over_http2(&$server);
        }

        #[test]
        fn curl_long_lived_stream_headers_arrive_before_first_data() {
            $crate::interop::curl_stream_headers_before_data(&$server);
        }

        // curl: Upgrade: h2c and HTTP/1.1.

        #[test]
        fn curl_upgrade_h2c_get() {
            $crate::interop::curl_upgrade_h2c_get(&$server);
        }

        #[test]
        fn curl_upgrade_h2c_post_body_is_echoed_over_http2() {
            $crate::interop::curl_upgrade_h2c_post(&$server);
        }

        #[test]
        fn curl_http11_chunked_upload_is_echoed_chunked() {
            $crate::interop::curl_http11_chunked_upload(&$server);
        }

        #[test]
        fn curl_http11_chunked_download_of_unknown_length() {
            $crate::interop::curl_http11_chunked_download(&$server);
        }

        #[test]
        fn curl_http11_keep_alive_reuses_the_connection() {
            $crate::interop::curl_http11_keep_alive(&$server);
        }

        // nghttp, h2load.

        #[test]
        fn nghttp_get_root_sees_settings_and_200() {
            $crate::interop::nghttp_get_root(&$server);
        }

        #[test]
        fn nghttp_multiplexes_three_requests_on_one_connection() {
            $crate::interop::nghttp_multiplexes_three_requests(&$server);
        }

        #[test]
        fn nghttp_tiny_windows_download_respects_flow_control() {
            $crate::interop::nghttp_tiny_windows_respect_flow_control(&$server);
        }

        #[test]
        fn nghttp_push_promise_for_pushed_css() {
            $crate::interop::nghttp_receives_push_promise(&$server);
        }

        #[test]
        fn h2load_fifty_thousand_requests_all_succeed() {
            // 20 connections × 20 concurrent streams each.
            $crate::interop::h2load_all_succeed(&$server, 50_000, 20, 20);
        }

        // python-hyper h2.

        #[test]
        fn python_h2_settings_flow_control_echo_and_goaway() {
            $crate::interop::python_h2(&$server, "flow");
        }

        #[test]
        fn python_h2_ping_is_acked_with_same_payload() {
            $crate::interop::python_h2(&$server, "ping");
        }

        // Our client example.

        #[test]
        fn client_example_gets_file_from_nghttpd() {
            $crate::interop::client_gets_file_from_nghttpd(&$client);
        }

        #[test]
        fn client_example_answers_the_servers_last_ping_before_closing() {
            $crate::interop::client_answers_the_servers_last_ping_before_closing(&$client);
        }

        #[test]
        fn client_example_upgrade_against_our_server() {
            $crate::interop::client_upgrade_against_server(&$client, &$server);
        }
    };
    (@tls true, $server:expr, $client:expr) => {
        #[test]
        fn curl_tls_alpn_selects_h2() {
            $crate::interop::curl_tls_alpn_h2(&$server);
        }

        #[test]
        fn curl_tls_alpn_selects_http11() {
            $crate::interop::curl_tls_alpn_http11(&$server);
        }

        #[test]
        fn curl_tls_ignores_upgrade_h2c() {
            $crate::interop::curl_tls_ignores_upgrade_h2c(&$server);
        }

        #[test]
        fn client_example_tls_insecure_against_our_server() {
            $crate::interop::client_tls_against_server(&$client, &$server);
        }
    };
    (@tls false, $server:expr, $client:expr) => {};
}
