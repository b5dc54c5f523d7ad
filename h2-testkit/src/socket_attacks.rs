//! Every HTTP/2 attack of SECURITY.md against a real server of each adapter over TCP
//! (127.0.0.1, port 0), with raw frames built by [`crate::dsl`]. Each test checks what the
//! attacker sees (GOAWAY with the right code, RST_STREAM, or the connection closed), that the
//! server's memory and work stay bounded where the attack aims at them, and that a normal request
//! on another connection is still served. Small timeouts are set through the server's `Config`
//! where the defaults would make a test slow; every other test runs on the defaults. Every wait
//! has a generous bound that only guards against hangs (CI shares two cores: no test asserts how
//! long something took). Each test runs in a child process of its own (the test binary filtered
//! to it, see [`alone`]), so that its memory figures (VmRSS, VmHWM) are its own, not those of
//! the tests beside it.
//!
//! The attacker and the normal client (hyperium's `h2`) run on a tokio runtime made here for
//! each test, whatever the adapter's runtime. An adapter plugs in with one function that starts
//! its server: [`AttackTarget`] says what it must serve and count, and an adapter's
//! `tests/attacks.rs` is that function plus one call of
//! [`attack_tests!`](crate::attack_tests), which expands to one `#[test]` per attack:
//!
//! ```text
//! h2_testkit::attack_tests!(
//!     start: start,
//!     ignore: {
//!         some_attack_test: "why this adapter cannot pass it yet",
//!     },
//! );
//!
//! fn start(config: h2core::Config) -> h2_testkit::socket_attacks::AttackTarget { ... }
//! ```
//!
//! (`h2-testkit/src/corpus/attacks.rs` holds the same attacks as scripted scenarios against
//! the core, without sockets.)

use crate::dsl::{encode_frames, get, hdrs, plus, PeerFrame as P};
use bytes::{BufMut, Bytes, BytesMut};
use h2core::{Config, Reason};
use http::{Request, StatusCode};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

/// Hang guard for each test.
const TEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Hang guard for each wait on something the server must do (answer, close): far longer than
/// it takes even on a loaded machine, so only a hang trips it.
const PROMPTLY: Duration = Duration::from_secs(60);
/// A flood writer that cannot write for this long suspects the server stopped reading; it
/// concludes so only once the server served another connection and ours still takes nothing
/// (see [`Attacker::flood_until_stopped`]): a bound on waiting, not the evidence.
const STALL: Duration = Duration::from_secs(2);

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const MAX_WINDOW: u32 = 0x7fff_ffff;
const CALM: Reason = Reason::ENHANCE_YOUR_CALM;

// Frame types and SETTINGS parameters.
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const INITIAL_WINDOW_SIZE: u16 = 0x4;

// ---------------------------------------------------------------------------------------------
// The server under attack, as each adapter starts it.

/// Starts the adapter's server with `config` on 127.0.0.1 port 0, serving the routes of
/// [`AttackRoute`] and counting in [`AttackCounters`]; returns once it accepts connections.
pub type Start = fn(Config) -> AttackTarget;

/// A running server under attack; stopped (graceful shutdown) when dropped.
pub struct AttackTarget {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What its routes did, shared with the handler.
    pub counters: Arc<AttackCounters>,
    /// Starts the server's graceful shutdown; must not block.
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl AttackTarget {
    /// A server listening on `addr`, counting in `counters`, stopped by `stop`.
    pub fn new(
        addr: SocketAddr,
        counters: Arc<AttackCounters>,
        stop: impl FnOnce() + Send + 'static,
    ) -> AttackTarget {
        AttackTarget {
            addr,
            counters,
            stop: Some(Box::new(stop)),
        }
    }
}

impl Drop for AttackTarget {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// The routes every adapter serves to the attacks (the demo's, reduced to what they need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackRoute {
    /// Any other path: `hello\n`.
    Hello,
    /// `/bytes/N`: N bytes, produced lazily in 16 KiB chunks through the adapter's body
    /// channel as the server takes them (so memory only grows if the server buffers), counted
    /// by a [`Producer`].
    Bytes(usize),
    /// `/echo`: the request body back.
    Echo,
}

impl AttackRoute {
    /// The route of a request path.
    pub fn of(path: &str) -> AttackRoute {
        if path == "/echo" {
            return AttackRoute::Echo;
        }
        match path.strip_prefix("/bytes/") {
            Some(n) => AttackRoute::Bytes(n.parse().unwrap_or(0)),
            None => AttackRoute::Hello,
        }
    }
}

/// The body of [`AttackRoute::Hello`].
pub const HELLO: &str = "hello\n";

/// What the routes did, for the checks.
#[derive(Debug, Default)]
pub struct AttackCounters {
    /// Requests that reached the handler.
    pub requests: AtomicUsize,
    /// Body bytes the `/bytes/N` producers handed to the server.
    pub produced: AtomicUsize,
    /// `/bytes/N` producers that finished (the whole body taken, or the stream gone).
    pub producers_done: AtomicUsize,
    /// Of those, the ones cut off (the stream or connection went away).
    pub producers_cut: AtomicUsize,
    /// Woken whenever `requests`, `producers_done` or `producers_cut` changes, so a check
    /// waits for a count ([`AttackCounters::wait_for`]), not for time to pass.
    changed: tokio::sync::Notify,
}

impl AttackCounters {
    /// Counts a request reaching the handler and returns its route.
    pub fn request(&self, path: &str) -> AttackRoute {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        AttackRoute::of(path)
    }

    /// Waits until `done` holds of the counts (checked now and at every change of
    /// `requests`, `producers_done` or `producers_cut`); fails the test, saying `what`, if it
    /// does not within `within`, a hang guard only. Returns how long it waited, to print.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        mut done: impl FnMut(&AttackCounters) -> bool,
    ) -> Duration {
        let started = Instant::now();
        let waited = timeout(within, async {
            loop {
                // Registered before the check, so a change between the two still wakes us.
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if done(self) {
                    return;
                }
                changed.await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "{what} (after {within:?}: {} requests, {} producers done, {} cut)",
            self.requests.load(Ordering::SeqCst),
            self.producers_done.load(Ordering::SeqCst),
            self.producers_cut.load(Ordering::SeqCst)
        );
        started.elapsed()
    }

    /// The producer of a `/bytes/N` body of `n` bytes.
    pub fn producer(self: &Arc<Self>, n: usize) -> Producer {
        Producer {
            counters: self.clone(),
            left: n,
            pending: 0,
            cut: false,
        }
    }
}

/// Feeds a `/bytes/N` body and counts it. The adapter's task or thread sends every chunk
/// [`Producer::next_chunk`] returns (a chunk asked for after another means that one was
/// taken), and calls [`Producer::cut`] when a send fails:
///
/// ```text
/// let mut p = counters.producer(n);
/// while let Some(chunk) = p.next_chunk() {
///     if tx.send(chunk).is_err() {
///         return p.cut();
///     }
/// }
/// ```
///
/// Dropping it counts the producer done.
pub struct Producer {
    counters: Arc<AttackCounters>,
    left: usize,
    /// The length of the chunk handed out last, not yet known to be taken.
    pending: usize,
    cut: bool,
}

impl Producer {
    /// The next chunk (16 KiB, or what is left), or `None` once the body is complete.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        static CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];
        self.counters
            .produced
            .fetch_add(self.pending, Ordering::SeqCst);
        let len = self.left.min(CHUNK.len());
        self.left -= len;
        self.pending = len;
        (len > 0).then(|| Bytes::from_static(&CHUNK[..len]))
    }

    /// The last chunk could not be sent: the stream or the connection is gone.
    pub fn cut(mut self) {
        self.cut = true;
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if self.cut {
            self.counters.producers_cut.fetch_add(1, Ordering::SeqCst);
        }
        self.counters.producers_done.fetch_add(1, Ordering::SeqCst);
        self.counters.changed.notify_waiters();
    }
}

/// The attack routes on the async engine, for an async adapter's runtime `R` (h2-tokio's,
/// h2-async-std's): `/` → [`HELLO`]; `/bytes/N` → N bytes from a task on `R`, as the server
/// takes them; `/echo` → the request body. (h2-mio's, blocking, feeds `/bytes/N` from a
/// thread.)
pub async fn async_route<R: h2_async::rt::Runtime>(
    counters: Arc<AttackCounters>,
    req: Request<h2_async::Body>,
) -> http::Response<h2_async::Body> {
    use h2_async::Body;
    match counters.request(req.uri().path()) {
        AttackRoute::Hello => http::Response::new(Body::from(HELLO)),
        AttackRoute::Echo => http::Response::new(req.into_body()),
        AttackRoute::Bytes(n) => {
            let (mut tx, body) = Body::channel();
            let mut producer = counters.producer(n);
            R::spawn(async move {
                while let Some(chunk) = producer.next_chunk() {
                    if tx.send_data(chunk).await.is_err() {
                        return producer.cut();
                    }
                }
            });
            http::Response::new(body)
        }
    }
}

/// The variable naming the one test a child process of [`alone`] runs.
const ALONE: &str = "H2_TESTKIT_ATTACK_ALONE";

/// Runs `test`, named `name` in this test binary, in a child process of its own: the binary
/// filtered to that test, so that the memory it measures (`/proc/self`) is its own and not
/// that of other tests running beside it. In the child, runs `test` itself.
#[doc(hidden)]
pub fn alone(name: &str, test: impl FnOnce()) {
    use std::process::{Command, Stdio};
    if std::env::var(ALONE).is_ok_and(|n| n == name) {
        return test();
    }
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--include-ignored", "--test-threads=1"])
        .args(["--nocapture"])
        .env(ALONE, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary");
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut out);
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let stderr = drain(child.stderr.take().map(|r| Box::new(r) as _));
    // The child fails itself after TEST_TIMEOUT; this only guards against a hang outside it.
    // Its exit is an event (a thread blocked in `wait` reports it), not something polled for.
    let pid = child.id();
    let (exited_tx, exited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait().ok());
    });
    let status = exited.recv_timeout(2 * TEST_TIMEOUT).unwrap_or_else(|_| {
        // The waiting thread owns the child: kill it by its id; `wait` then returns.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
        None
    });
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    print!("{stdout}");
    eprint!("{stderr}");
    let status = status.unwrap_or_else(|| panic!("{name}: the child process hung; killed"));
    assert!(
        status.success(),
        "{name} failed in its own process ({status})"
    );
    // A filter that matched nothing would pass without testing anything.
    assert!(
        stdout.contains("1 passed"),
        "{name}: the child process did not run the test"
    );
}

/// Starts the server under test (from inside the test's runtime: `start` may block briefly).
fn serve(start: Start, config: Config) -> AttackTarget {
    tokio::task::block_in_place(|| start(config))
}

/// Runs `test` on a tokio runtime of its own, failing it after `TEST_TIMEOUT`; prints how long
/// it took.
fn run(test: impl Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime for the attacker");
    rt.block_on(async {
        let started = Instant::now();
        timeout(TEST_TIMEOUT, test).await.expect("test timed out");
        println!("took {:?}", started.elapsed());
    });
    // Whatever the test left running (the normal client's connection) must not hold it.
    rt.shutdown_background();
}

/// A normal client (hyperium's `h2`) on a new connection: GET / and GET /bytes/100000 are
/// served whole.
async fn still_serves(addr: SocketAddr) {
    let tcp = timeout(PROMPTLY, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let (client, connection) = timeout(PROMPTLY, h2::client::handshake(tcp))
        .await
        .expect("handshake in time")
        .expect("handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    for (path, len) in [("/", 6), ("/bytes/100000", 100_000)] {
        let received = timeout(PROMPTLY, async {
            let mut client = client.clone().ready().await.expect("ready");
            let req = Request::get(format!("http://{addr}{path}"))
                .body(())
                .expect("request");
            let (resp, _) = client.send_request(req, true).expect("send");
            let resp = resp.await.expect("response");
            assert_eq!(resp.status(), StatusCode::OK);
            let mut body = resp.into_body();
            let mut received = 0;
            while let Some(chunk) = body.data().await {
                let chunk = chunk.expect("body");
                received += chunk.len();
                let _ = body.flow_control().release_capacity(chunk.len());
            }
            received
        })
        .await
        .unwrap_or_else(|_| panic!("{path} was not served in time"));
        assert_eq!(received, len, "{path}");
    }
}

/// A `/proc/self/status` field in bytes (None off Linux).
fn proc_status(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resident memory now.
fn rss() -> Option<usize> {
    proc_status("VmRSS:")
}

/// Peak resident memory so far.
fn peak_rss() -> Option<usize> {
    proc_status("VmHWM:")
}

/// Fails if memory grew by more than `limit` since `before` (each test has a process of its
/// own, see [`alone`]: the limits are far above what the test legitimately uses, far below what
/// the attack would cost unbounded).
fn assert_grew_less(what: &str, before: Option<usize>, after: Option<usize>, limit: usize) {
    if let (Some(b), Some(a)) = (before, after) {
        println!("{what}: {} MiB -> {} MiB", b >> 20, a >> 20);
        assert!(
            a < b + limit,
            "{what} grew from {} MiB to {} MiB (limit +{} MiB)",
            b >> 20,
            a >> 20,
            limit >> 20
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The attacker: raw frames over a TcpStream.

/// A frame the server sent.
#[derive(Debug, Clone)]
struct F {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Bytes,
}

impl F {
    fn is_goaway(&self, reason: Reason) -> bool {
        self.kind == GOAWAY && self.code() == reason.0
    }

    fn is_rst(&self, stream: u32, reason: Reason) -> bool {
        self.kind == RST_STREAM && self.stream == stream && self.code() == reason.0
    }

    /// The error code of a GOAWAY or RST_STREAM.
    fn code(&self) -> u32 {
        let at = if self.kind == GOAWAY { 4 } else { 0 };
        u32::from_be_bytes(self.payload[at..at + 4].try_into().expect("code"))
    }

    /// A GOAWAY's last-stream-id.
    fn last_stream(&self) -> u32 {
        u32::from_be_bytes(self.payload[..4].try_into().expect("last")) & MAX_WINDOW
    }
}

impl std::fmt::Display for F {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "type={:#x} flags={:#x} stream={} len={}",
            self.kind,
            self.flags,
            self.stream,
            self.payload.len()
        )?;
        if self.kind == GOAWAY && self.payload.len() >= 8 {
            write!(
                f,
                " GOAWAY last={} code={:#x} {:?}",
                self.last_stream(),
                self.code(),
                String::from_utf8_lossy(&self.payload[8..])
            )?;
        }
        if self.kind == RST_STREAM && self.payload.len() >= 4 {
            write!(f, " RST_STREAM code={:#x}", self.code())?;
        }
        Ok(())
    }
}

/// How reading ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The frame looked for arrived.
    Found,
    /// The server closed the connection (FIN).
    Eof,
    /// The connection was reset.
    Reset,
    /// Nothing more within the time given.
    Timeout,
}

struct Attacker {
    s: TcpStream,
    buf: BytesMut,
    /// Every frame received, in order.
    frames: Vec<F>,
    /// Frames already looked at by `read_until`.
    seen: usize,
    /// Where in its unit the flood stopped (see `flood`).
    flood_at: usize,
}

impl Attacker {
    async fn connect(addr: SocketAddr) -> Attacker {
        let s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Attacker {
            s,
            buf: BytesMut::new(),
            frames: Vec::new(),
            seen: 0,
            flood_at: 0,
        }
    }

    /// Connects and sends the preface, SETTINGS with `settings` and an ACK of the server's
    /// SETTINGS (it is sent before ours is read: the order is the server's, not ours).
    async fn handshake(addr: SocketAddr, settings: Vec<(u16, u32)>) -> Attacker {
        let mut a = Attacker::connect(addr).await;
        a.send(&[P::Preface, P::settings(settings), P::SettingsAck])
            .await;
        a
    }

    async fn send(&mut self, frames: &[P]) {
        let bytes = encode_frames(frames);
        self.send_bytes(&bytes).await;
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        timeout(PROMPTLY, self.s.write_all(bytes))
            .await
            .expect("the server did not take our bytes in time")
            .expect("write");
    }

    /// Reads until a frame not looked at before matches `want`, the connection ends, or
    /// `within` passes.
    async fn read_until(&mut self, within: Duration, mut want: impl FnMut(&F) -> bool) -> End {
        let deadline = Instant::now() + within;
        loop {
            while self.seen < self.frames.len() {
                self.seen += 1;
                if want(&self.frames[self.seen - 1]) {
                    return End::Found;
                }
            }
            let mut chunk = vec![0u8; 64 * 1024];
            let n = match tokio::time::timeout_at(deadline, self.s.read(&mut chunk)).await {
                Err(_) => return End::Timeout,
                Ok(Ok(0)) => return End::Eof,
                Ok(Err(_)) => return End::Reset,
                Ok(Ok(n)) => n,
            };
            self.buf.extend_from_slice(&chunk[..n]);
            self.parse();
        }
    }

    /// Reads until the server closes the connection, which must be within `within`.
    async fn read_to_end(&mut self, within: Duration) -> End {
        let end = self.read_until(within, |_| false).await;
        assert_ne!(
            end,
            End::Timeout,
            "the server did not close the connection within {within:?}; last frames: {}",
            self.last_frames()
        );
        end
    }

    fn parse(&mut self) {
        parse(&mut self.buf, &mut self.frames);
    }

    fn count(&self, pred: impl Fn(&F) -> bool) -> usize {
        count(&self.frames, pred)
    }

    fn last_frames(&self) -> String {
        last_frames(&self.frames)
    }

    /// The server must send GOAWAY with `reason` and then close the connection.
    async fn expect_goaway(&mut self, reason: Reason) -> F {
        let end = self.read_until(PROMPTLY, |f| f.kind == GOAWAY).await;
        assert_eq!(
            end,
            End::Found,
            "no GOAWAY {reason:?}; {}",
            self.last_frames()
        );
        let goaway = self.frames[self.seen - 1].clone();
        assert!(
            goaway.is_goaway(reason),
            "want GOAWAY {reason:?}, got {goaway}"
        );
        self.read_to_end(PROMPTLY).await;
        goaway
    }

    /// The server must reset `stream` with `reason` and go on (no GOAWAY so far).
    async fn expect_rst(&mut self, stream: u32, reason: Reason) {
        let end = self
            .read_until(PROMPTLY, |f| f.kind == RST_STREAM && f.stream == stream)
            .await;
        assert_eq!(
            end,
            End::Found,
            "no RST_STREAM on {stream}; {}",
            self.last_frames()
        );
        let rst = &self.frames[self.seen - 1];
        assert!(
            rst.is_rst(stream, reason),
            "want RST_STREAM {reason:?}, got {rst}"
        );
        assert_eq!(
            self.count(|f| f.kind == GOAWAY),
            0,
            "{}",
            self.last_frames()
        );
    }

    /// The server must answer `stream` with 200 and a body ending the stream.
    async fn expect_served(&mut self, stream: u32) {
        let end = self
            .read_until(PROMPTLY, |f| {
                f.stream == stream && matches!(f.kind, DATA | HEADERS) && f.flags & 0x1 != 0
            })
            .await;
        assert_eq!(
            end,
            End::Found,
            "stream {stream} was not served; {}",
            self.last_frames()
        );
        assert!(
            self.count(|f| f.kind == HEADERS && f.stream == stream) >= 1,
            "no response HEADERS on {stream}"
        );
    }

    /// Writes `unit` (whole frames) over and over without reading until no write goes
    /// through for `stall` (the server stopped reading), the connection fails, or `max` bytes
    /// are written. Returns the bytes written and whether the connection failed. Frames stay
    /// whole across calls: a write cut by the timeout wrote nothing (`write` is cancel-safe),
    /// and the next call goes on where the last one stopped.
    async fn flood(&mut self, unit: &[u8], stall: Duration, max: usize) -> (usize, bool) {
        let mut written = 0;
        while written < max {
            let at = self.flood_at % unit.len();
            match timeout(stall, self.s.write(&unit[at..])).await {
                Ok(Ok(0)) | Ok(Err(_)) => return (written, true),
                Ok(Ok(n)) => {
                    written += n;
                    self.flood_at = (at + n) % unit.len();
                }
                Err(_) => {
                    let failed = self.s.take_error().map_or(true, |e| e.is_some());
                    return (written, failed);
                }
            }
        }
        (written, false)
    }
}

impl Attacker {
    /// [`Attacker::flood`] until the server stops reading (confirmed by an event, not by the
    /// stall alone: the server serves a request on another connection, so it is working, and
    /// then our socket still takes no byte), the connection fails, or `max` bytes are written.
    async fn flood_until_stopped(
        &mut self,
        addr: SocketAddr,
        unit: &[u8],
        max: usize,
    ) -> (usize, bool) {
        let mut written = 0;
        loop {
            let (n, failed) = self.flood(unit, STALL, max - written).await;
            written += n;
            if failed || written >= max {
                return (written, failed);
            }
            served_once(addr).await;
            let at = self.flood_at % unit.len();
            match self.s.try_write(&unit[at..]) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (written, false),
                Ok(0) | Err(_) => return (written, true),
                // Only slow: it took more; flood on.
                Ok(n) => {
                    written += n;
                    self.flood_at = (at + n) % unit.len();
                }
            }
        }
    }
}

/// One request served on a connection of its own: an event that says the server is working.
async fn served_once(addr: SocketAddr) {
    let mut a = Attacker::handshake(addr, vec![]).await;
    a.send(&[P::get(1, "/")]).await;
    a.expect_served(1).await;
}

/// Moves the whole frames at the front of `buf` to `frames`.
fn parse(buf: &mut BytesMut, frames: &mut Vec<F>) {
    while buf.len() >= 9 {
        let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
        if buf.len() < 9 + len {
            return;
        }
        let head = buf.split_to(9);
        let payload = buf.split_to(len).freeze();
        frames.push(F {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & MAX_WINDOW,
            payload,
        });
    }
}

fn count(frames: &[F], pred: impl Fn(&F) -> bool) -> usize {
    frames.iter().filter(|f| pred(f)).count()
}

/// The last few frames, for failure messages.
fn last_frames(frames: &[F]) -> String {
    let from = frames.len().saturating_sub(5);
    let list: Vec<String> = frames[from..].iter().map(|f| f.to_string()).collect();
    format!(
        "{} frames in all, last: [{}]",
        frames.len(),
        list.join("; ")
    )
}

/// `frame` `n` times.
fn repeat(frame: P, n: usize) -> Vec<P> {
    vec![frame; n]
}

/// A request header block from the static table (RFC 7541 Appendix A) plus `extra` raw HPACK
/// bytes, so nothing is inserted in the dynamic table by the request itself.
fn static_get_plus(extra: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_slice(&[0x82, 0x86, 0x84, 0x01, 0x09]);
    b.put_slice(b"localhost");
    b.put_slice(extra);
    b.freeze()
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9511 data dribble.

pub fn cve_2019_9511_data_dribble_gets_frames_as_small_as_its_windows_and_nothing_queues(
    start: Start,
) {
    run(async {
        let t = serve(start, Config::server());
        let before = rss();
        // 1-octet stream windows, 50 responses of 10 MB each.
        let mut a = Attacker::handshake(t.addr, vec![(INITIAL_WINDOW_SIZE, 1)]).await;
        let streams: Vec<u32> = (0..50).map(|i| 1 + 2 * i).collect();
        let requests: Vec<P> = streams
            .iter()
            .map(|&id| P::get(id, "/bytes/10000000"))
            .collect();
        a.send(&requests).await;
        let end = a
            .read_until(PROMPTLY, {
                let mut left = streams.len();
                move |f| {
                    if f.kind == DATA {
                        left -= 1;
                    }
                    left == 0
                }
            })
            .await;
        assert_eq!(end, End::Found, "{}", a.last_frames());
        // One WINDOW_UPDATE of 1 at a time on stream 1: one 1-octet DATA frame each.
        for _ in 0..5 {
            a.send(&[P::window_update(1, 1)]).await;
            let end = a.read_until(PROMPTLY, |f| f.kind == DATA).await;
            assert_eq!(end, End::Found, "{}", a.last_frames());
        }
        // Nothing more comes: the PING's ACK says the server read everything before it, and
        // any DATA it let go for those updates was written first (an event, not a quiet time).
        let data_before = a.count(|f| f.kind == DATA);
        a.send(&[P::ping(*b"nomore!!")]).await;
        let end = a
            .read_until(PROMPTLY, |f| f.kind == PING && f.flags & 0x1 != 0)
            .await;
        assert_eq!(end, End::Found, "{}", a.last_frames());
        assert_eq!(
            a.count(|f| f.kind == DATA),
            data_before,
            "{}",
            a.last_frames()
        );
        let data: Vec<&F> = a.frames.iter().filter(|f| f.kind == DATA).collect();
        assert_eq!(data.len(), 55, "{}", a.last_frames());
        assert!(
            data.iter().all(|f| f.payload.len() == 1),
            "a DATA frame larger than the window"
        );
        assert_eq!(a.count(|f| f.kind == GOAWAY), 0);
        // Each producer is held back by flow control: a few chunks each, not 500 MB in all.
        let produced = t.counters.produced.load(Ordering::SeqCst);
        println!("producers made {} KiB for 55 octets sent", produced >> 10);
        assert!(produced < 50 * 8 * 16 * 1024, "produced {produced} bytes");
        assert_grew_less("RSS", before, rss(), 200 << 20);
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9512 PING flood, CVE-2019-9515 SETTINGS flood: replies the peer does not read.

/// Floods `unit` (whole frames) without reading; the server must end with GOAWAY
/// ENHANCE_YOUR_CALM once too many replies are unwritten. Returns the attacker.
async fn flood_without_reading(t: &AttackTarget, unit: &[u8]) -> Attacker {
    let before = rss();
    let mut a = Attacker::handshake(t.addr, vec![]).await;
    let started = Instant::now();
    // Until the server stops reading, or fails, or (having given up on us, it reads and drops
    // what we send until it closes) 64 MiB.
    let (written, failed) = a.flood_until_stopped(t.addr, unit, 64 << 20).await;
    println!(
        "flooded {} KiB in {:?} (connection failed: {failed})",
        written >> 10,
        started.elapsed()
    );
    // Unanswered replies did not pile up in the server.
    assert_grew_less("RSS", before, rss(), 200 << 20);
    // Now read: the replies written before the limit, then GOAWAY ENHANCE_YOUR_CALM.
    let goaway = a.expect_goaway(CALM).await;
    println!("{goaway} after {} frames", a.frames.len());
    a
}

pub fn cve_2019_9512_ping_flood_from_a_peer_that_does_not_read_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let unit = encode_frames(&repeat(P::ping(*b"flooding"), 1000));
        let a = flood_without_reading(&t, &unit).await;
        // Answered while the socket took the ACKs: the limit counts replies not written, so
        // it is only reached once the socket buffers are full.
        let acks = a.count(|f| f.kind == PING && f.flags & 0x1 != 0);
        assert!(acks > 1024, "only {acks} PING ACKs before the GOAWAY");
        still_serves(t.addr).await;
    });
}

pub fn cve_2019_9512_many_pings_from_a_peer_that_reads_are_all_answered(start: Start) {
    run(async {
        // 21,000 PINGs in bursts, each sent once the ACKs of the one before are read: all
        // answered, nothing refused. max_pending_control_frames counts replies not yet
        // written, not PINGs: the first burst, 2,000 PINGs with the preface, is more than
        // the limit but the server writes its ACKs as it reads (including those of the bytes
        // read to tell HTTP/2 from HTTP/1.1, before the connection task existed).
        let t = serve(start, Config::server());
        let mut a = Attacker::connect(t.addr).await;
        let burst = encode_frames(&repeat(P::ping(*b"pingping"), 1000));
        let mut first = encode_frames(&[P::Preface, P::settings(vec![]), P::SettingsAck]).to_vec();
        first.extend_from_slice(&burst);
        first.extend_from_slice(&burst);
        for round in 0..20 {
            a.send_bytes(if round == 0 { &first } else { &burst }).await;
            let sent = if round == 0 { 2000 } else { 1000 };
            let mut left = sent;
            let end = a
                .read_until(PROMPTLY, |f| {
                    assert_ne!(
                        f.kind,
                        GOAWAY,
                        "round {round}, after {} of {sent} ACKs: {f}",
                        sent - left
                    );
                    if f.kind == PING && f.flags & 0x1 != 0 {
                        left -= 1;
                    }
                    left == 0
                })
                .await;
            assert_eq!(end, End::Found, "round {round}: {}", a.last_frames());
        }
        still_serves(t.addr).await;
    });
}

pub fn cve_2019_9515_settings_flood_is_enhance_your_calm(start: Start) {
    run(async {
        // 1,820 empty SETTINGS fit in one 16 KiB read: more unanswered ACKs than
        // max_pending_control_frames at once, whether the peer reads or not.
        let t = serve(start, Config::server());
        let unit = encode_frames(&repeat(P::settings(vec![]), 1000));
        let a = flood_without_reading(&t, &unit).await;
        let acks = a.count(|f| f.kind == SETTINGS && f.flags & 0x1 != 0);
        assert!(acks > 0, "no SETTINGS ACK at all");
        still_serves(t.addr).await;
    });
}

pub fn cve_2020_11080_settings_with_too_many_entries_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[P::settings(vec![(0x3, 100); 33])]).await;
        a.expect_goaway(CALM).await;
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9513 priority resource loop.

fn priority_loop(n: usize) -> Vec<P> {
    [P::priority(3, 5, 200, true), P::priority(5, 3, 10, true)]
        .iter()
        .cycle()
        .take(n)
        .cloned()
        .collect()
}

pub fn cve_2019_9513_priority_flood_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&priority_loop(1001)).await;
        a.expect_goaway(CALM).await;
        still_serves(t.addr).await;
    });
}

pub fn cve_2019_9513_priority_loops_and_idle_streams_within_the_limit_leave_the_connection_serving(
    start: Start,
) {
    run(async {
        let mut config = Config::server();
        config.limits.reset_window = Duration::from_millis(200);
        let t = serve(start, config);
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        // 20 windows of 900 PRIORITY frames: dependency loops, and 18,000 idle streams named
        // (the tree keeps 1,000 of them).
        for round in 0..20u32 {
            let mut frames = priority_loop(400);
            frames
                .extend((0..500).map(|i| P::priority(1001 + 2 * (round * 500 + i), 3, 16, false)));
            // The PING's ACK says the server has read the whole batch: the next one, more than
            // a window later, cannot fall in the same window however slowly the server reads
            // (a sleep alone would not say when it read).
            frames.push(P::ping(*b"batch-ok"));
            a.send(&frames).await;
            let end = a
                .read_until(PROMPTLY, |f| f.kind == PING && f.flags & 0x1 != 0)
                .await;
            assert_eq!(end, End::Found, "round {round}: {}", a.last_frames());
            // Pacing that is the scenario itself (batches in separate reset windows), not a
            // pass criterion: a slower machine only makes the gaps longer, which the test
            // allows; nothing asserts how long anything took.
            sleep(Duration::from_millis(250)).await;
        }
        a.send(&[P::get(1, "/")]).await;
        a.expect_served(1).await;
        assert_eq!(a.count(|f| f.kind == GOAWAY), 0, "{}", a.last_frames());
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9514 RST_STREAM flood, CVE-2023-44487 rapid reset.

pub fn cve_2019_9514_rst_stream_flood_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        // Malformed requests (only :method): each must be reset.
        let frames: Vec<P> = (0..201)
            .map(|i| P::headers(1 + 2 * i, hdrs(&[(":method", "GET")])).eos())
            .collect();
        a.send(&frames).await;
        a.expect_goaway(CALM).await;
        let resets = a.count(|f| f.kind == RST_STREAM && f.code() == Reason::PROTOCOL_ERROR.0);
        println!("{resets} RST_STREAM before GOAWAY");
        assert!((1..=201).contains(&resets), "{resets} RST_STREAM frames");
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 0);
        still_serves(t.addr).await;
    });
}

pub fn cve_2023_44487_rapid_reset_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let before = rss();
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let frames: Vec<P> = (0..201)
            .flat_map(|i| {
                [
                    P::get(1 + 2 * i, "/bytes/1000000"),
                    P::rst(1 + 2 * i, Reason::CANCEL),
                ]
            })
            .collect();
        a.send(&frames).await;
        let goaway = a.expect_goaway(CALM).await;
        println!("{goaway}");
        assert_grew_less("RSS", before, rss(), 200 << 20);
        // The handlers' producers are released, not left running for streams gone.
        let started = t.counters.requests.load(Ordering::SeqCst);
        t.counters
            .wait_for("producers still run for streams gone", PROMPTLY, |c| {
                c.producers_done.load(Ordering::SeqCst) >= started
            })
            .await;
        still_serves(t.addr).await;
    });
}

pub fn cve_2023_44487_resets_within_the_limit_leave_the_connection_serving(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let frames: Vec<P> = (0..150)
            .flat_map(|i| [P::get(1 + 2 * i, "/"), P::rst(1 + 2 * i, Reason::CANCEL)])
            .collect();
        a.send(&frames).await;
        a.send(&[P::get(301, "/")]).await;
        a.expect_served(301).await;
        assert_eq!(a.count(|f| f.kind == GOAWAY), 0, "{}", a.last_frames());
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9516 0-length header leak.

pub fn cve_2019_9516_zero_length_headers_reset_the_stream_and_the_connection_goes_on(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let before = rss();
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        // 150 requests each inserting 1,000 empty fields (0x40 0x00 0x00: literal with
        // incremental indexing, empty name, empty value).
        let empties = [0x40, 0x00, 0x00].repeat(1000);
        let frames: Vec<P> = (0..150)
            .map(|i| {
                P::headers(1 + 2 * i, vec![])
                    .raw_block(static_get_plus(&empties))
                    .eos()
            })
            .collect();
        a.send(&frames).await;
        a.expect_rst(299, Reason::PROTOCOL_ERROR).await;
        assert_eq!(
            a.count(|f| f.kind == RST_STREAM && f.code() == Reason::PROTOCOL_ERROR.0),
            150
        );
        a.send(&[P::headers(301, vec![])
            .raw_block(static_get_plus(&[]))
            .eos()])
            .await;
        a.expect_served(301).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 1);
        assert_grew_less("RSS", before, rss(), 200 << 20);
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9517 internal data buffering; a peer that never reads.

/// Opens windows as wide as they go and asks for `n` responses of 100 MB, then reads nothing.
async fn ask_and_never_read(t: &AttackTarget, n: u32) -> Attacker {
    let mut a = Attacker::handshake(t.addr, vec![(INITIAL_WINDOW_SIZE, MAX_WINDOW)]).await;
    let mut frames = vec![P::window_update(0, MAX_WINDOW - 65_535)];
    frames.extend((0..n).map(|i| P::get(1 + 2 * i, "/bytes/100000000")));
    a.send(&frames).await;
    a
}

/// Waits until `n` `/bytes` producers have been cut off; returns how long that took.
async fn producers_cut(t: &AttackTarget, n: usize, within: Duration) -> Duration {
    t.counters
        .wait_for(&format!("fewer than {n} producers were cut"), within, |c| {
            c.producers_cut.load(Ordering::SeqCst) >= n
        })
        .await
}

pub fn cve_2019_9517_peer_that_never_reads_large_responses_keeps_memory_bounded(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let before = rss();
        let a = ask_and_never_read(&t, 50).await;
        // Per stream: max_send_buffer (400 KiB) and the body channel; plus socket buffers.
        const BOUND: usize = 100 << 20;
        let produced = || t.counters.produced.load(Ordering::SeqCst);
        // Every handler started: all 50 producers run.
        t.counters
            .wait_for("not all 50 requests reached the handler", PROMPTLY, |c| {
                c.requests.load(Ordering::SeqCst) >= 50
            })
            .await;
        // Production stops: nothing more is produced while the server serves a request on
        // another connection (it works meanwhile; nothing it does lets a producer go on).
        // Events, not sleeps; bounded at every look, so unbounded producers fail it.
        let mut last = produced();
        for round in 0.. {
            served_once(t.addr).await;
            let now = produced();
            assert!(now < BOUND, "produced {now} bytes of 5 GB");
            if now == last && now > 0 {
                break;
            }
            assert!(
                round < 1000,
                "the producers are not held back ({} MiB)",
                now >> 20
            );
            last = now;
        }
        println!(
            "producers made {} MiB for a peer that reads nothing",
            last >> 20
        );
        assert_grew_less("RSS", before, rss(), 200 << 20);
        still_serves(t.addr).await;
        // The attacker leaves: everything is released.
        drop(a);
        producers_cut(&t, 50, PROMPTLY).await;
    });
}

pub fn cve_2019_9517_peer_that_never_reads_is_cut_after_write_timeout(start: Start) {
    run(async {
        let mut config = Config::server();
        config.write_timeout = Some(Duration::from_secs(2));
        let t = serve(start, config);
        let mut a = ask_and_never_read(&t, 20).await;
        // Blocked once the socket buffers are full; cut write_timeout later, output dropped.
        let took = producers_cut(&t, 20, Duration::from_secs(2) + PROMPTLY).await;
        println!("cut {took:?} after the requests (write_timeout 2 s)");
        // What was in the socket buffers can still be read; then the connection is closed.
        let end = a.read_to_end(PROMPTLY).await;
        println!("{end:?} after {} frames", a.frames.len());
        still_serves(t.addr).await;
    });
}

pub fn peer_that_never_reads_after_a_flood_is_closed_without_reading_its_goaway(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let unit = encode_frames(&repeat(P::ping(*b"neverred"), 1000));
        // Flood and never read: the server stops reading once too many replies are unwritten
        // (GOAWAY ENHANCE_YOUR_CALM waits behind them). It must still give up on us and
        // close: a PING every 100 ms then fails.
        let started = Instant::now();
        let (mut written, _) = a.flood_until_stopped(t.addr, &unit, 256 << 20).await;
        println!("the server stopped reading after {:?}", started.elapsed());
        let one = encode_frames(&[P::ping(*b"neverred")]);
        // A hang guard, in PINGs (one per 100 ms at most), not an assertion on time.
        for pings in 0.. {
            assert!(
                pings < 1000,
                "the server kept a connection that never reads open ({} KiB written)",
                written >> 10
            );
            let (n, failed) = a.flood(&one, Duration::from_millis(100), one.len()).await;
            written += n;
            if failed {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
        println!(
            "closed by the server {:?} after the flood began ({} KiB written)",
            started.elapsed(),
            written >> 10
        );
        assert!(a.frames.is_empty());
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// CVE-2019-9518 empty frames flood.

pub fn cve_2019_9518_empty_data_frames_flood_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let mut frames = vec![P::request(1, "POST", "/echo")];
        frames.extend(repeat(P::data(1, ""), 1001));
        a.send(&frames).await;
        a.expect_goaway(CALM).await;
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// The CONTINUATION flood family (2024).

pub fn continuation_flood_endless_continuation_frames_is_enhance_your_calm(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let mut frames = vec![P::raw_frame(HEADERS, 0x0, 1, static_get_plus(&[]))];
        // Each CONTINUATION carries a little (a literal without indexing, `x-a: 1`), none
        // ends the block.
        let piece = Bytes::from_static(&[0x00, 0x03, b'x', b'-', b'a', 0x01, b'1']);
        frames.extend(repeat(P::raw_frame(0x9, 0x0, 1, piece), 1000));
        a.send(&frames).await;
        a.expect_goaway(CALM).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 0);
        still_serves(t.addr).await;
    });
}

pub fn continuation_flood_huge_header_block_is_enhance_your_calm_before_decoding(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let before = peak_rss();
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let mut frames = vec![P::raw_frame(HEADERS, 0x0, 1, vec![0u8; 16_384])];
        frames.extend(repeat(P::raw_frame(0x9, 0x0, 1, vec![0u8; 16_384]), 40));
        a.send(&frames).await;
        a.expect_goaway(CALM).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 0);
        assert_grew_less("peak RSS", before, peak_rss(), 200 << 20);
        still_serves(t.addr).await;
    });
}

pub fn continuation_without_end_headers_delivers_nothing_and_does_not_hold_the_connection(
    start: Start,
) {
    run(async {
        // The block never ends: the request is never delivered, and an open header block is
        // no activity, so the idle timeout still closes the connection.
        let mut config = Config::server();
        config.idle_timeout = Some(Duration::from_secs(1));
        let t = serve(start, config);
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[P::get(1, "/").no_end_headers()]).await;
        // CONTINUATION frames keep coming until the server ends the connection (nothing else
        // may interleave with a header block, so they are paced by a short read, not by an
        // answer): if they kept it, no GOAWAY would come and the hang guard fails the test.
        // The pace is no assertion: GOAWAY must come however fast or slow they arrive.
        let continuation = encode_frames(&[P::continuation(1, vec![], false)]);
        let mut sent = 0u64;
        let ended = timeout(PROMPTLY, async {
            loop {
                if a.s.write_all(&continuation).await.is_err() {
                    return;
                }
                sent += 1;
                let end = a
                    .read_until(Duration::from_millis(50), |f| f.kind == GOAWAY)
                    .await;
                if end != End::Timeout {
                    return;
                }
            }
        })
        .await;
        assert!(
            ended.is_ok(),
            "{sent} CONTINUATION frames kept an idle connection open; {}",
            a.last_frames()
        );
        let end = a.read_to_end(PROMPTLY).await;
        println!("closed after {sent} CONTINUATION frames ({end:?})");
        assert!(
            a.frames.iter().any(|f| f.is_goaway(Reason::NO_ERROR)),
            "{}",
            a.last_frames()
        );
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 0);

        // On the defaults: the attacker leaves mid-block; nothing is delivered.
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[
            P::get(1, "/").no_end_headers(),
            P::continuation(1, vec![], false),
        ])
        .await;
        a.s.shutdown().await.expect("shutdown");
        a.read_to_end(PROMPTLY).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 0);
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// HPACK bomb, header lists over the limit, too many headers.

pub fn hpack_bomb_refuses_the_stream_without_inflating_memory(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let before = peak_rss();
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        // Stream 1 inserts a 4,000-octet entry `x-bomb: aaa...` (literal with incremental
        // indexing, new name); it is served.
        let mut insert = vec![0x40, 0x06];
        insert.extend_from_slice(b"x-bomb");
        insert.extend_from_slice(&[0x7f, 0xa1, 0x1e]); // 4000 = 127 + 3873 (RFC 7541 §5.1)
        insert.extend_from_slice(&[b'a'; 4000]);
        a.send(&[P::headers(1, vec![])
            .raw_block(static_get_plus(&insert))
            .eos()])
            .await;
        a.expect_served(1).await;
        // Then 20 requests each referring to it 200,000 times (index 62: 0xbe) over 13
        // frames: 800 MB each once inflated.
        let bomb = static_get_plus(&vec![0xbe; 200_000]);
        let frames: Vec<P> = (0..20)
            .map(|i| {
                P::headers(3 + 2 * i, vec![])
                    .raw_block(bomb.clone())
                    .eos()
                    .pieces(13)
            })
            .collect();
        a.send(&frames).await;
        a.expect_rst(41, Reason::PROTOCOL_ERROR).await;
        assert_eq!(
            a.count(|f| f.kind == RST_STREAM && f.code() == Reason::PROTOCOL_ERROR.0),
            20
        );
        // The table entry still works: the connection is in step.
        a.send(&[P::headers(43, plus(get("/"), &[("x-after", "bomb")])).eos()])
            .await;
        a.expect_served(43).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 2);
        assert_grew_less("peak RSS", before, peak_rss(), 300 << 20);
        still_serves(t.addr).await;
    });
}

pub fn header_list_over_the_limit_refuses_the_stream_and_the_connection_goes_on(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let big = "b".repeat(70_000);
        a.send(&[P::headers(1, plus(get("/"), &[("x-big", &big)]))
            .eos()
            .pieces(8)])
            .await;
        a.expect_rst(1, Reason::PROTOCOL_ERROR).await;
        a.send(&[P::get(3, "/")]).await;
        a.expect_served(3).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 1);
        still_serves(t.addr).await;
    });
}

pub fn too_many_header_fields_refuse_the_stream_and_the_connection_goes_on(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        let mut fields = get("/");
        fields.extend(hdrs(&[("x-a", "1")]).into_iter().cycle().take(600));
        a.send(&[P::headers(1, fields).eos()]).await;
        a.expect_rst(1, Reason::PROTOCOL_ERROR).await;
        a.send(&[P::get(3, "/")]).await;
        a.expect_served(3).await;
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 1);
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// Slow or absent preface, idle connections.

fn handshake_in_one_second() -> Config {
    let mut config = Config::server();
    config.handshake_timeout = Duration::from_secs(1);
    config
}

pub fn slow_preface_is_settings_timeout(start: Start) {
    run(async {
        let t = serve(start, handshake_in_one_second());
        // Half the preface, then nothing.
        let mut a = Attacker::connect(t.addr).await;
        a.send_bytes(&PREFACE[..16]).await;
        let started = Instant::now();
        a.expect_goaway(Reason::SETTINGS_TIMEOUT).await;
        println!("half a preface: closed after {:?}", started.elapsed());
        // The whole preface but no SETTINGS.
        let mut a = Attacker::connect(t.addr).await;
        a.send_bytes(PREFACE).await;
        a.expect_goaway(Reason::SETTINGS_TIMEOUT).await;
        still_serves(t.addr).await;
    });
}

pub fn absent_preface_is_closed_after_handshake_timeout(start: Start) {
    run(async {
        let t = serve(start, handshake_in_one_second());
        let mut a = Attacker::connect(t.addr).await;
        let started = Instant::now();
        // Nothing said, so no protocol to answer in: the connection is just closed.
        let end = a.read_to_end(PROMPTLY).await;
        println!("closed {:?} after connecting ({end:?})", started.elapsed());
        // Closed, and silently. Not how long after: that the close waits for the deadline is
        // h2core's shell test `absent_preface_closes_silently_at_the_deadline`, on a virtual
        // clock; a wall-clock floor here would only measure the machine.
        assert!(a.frames.is_empty(), "{}", a.last_frames());
        still_serves(t.addr).await;
    });
}

pub fn idle_connection_is_shut_down_gracefully_and_pings_do_not_keep_it(start: Start) {
    run(async {
        let mut config = Config::server();
        config.idle_timeout = Some(Duration::from_secs(1));
        let t = serve(start, config);
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[P::get(1, "/")]).await;
        a.expect_served(1).await;
        // A PING as soon as the one before is answered, until the server ends the connection:
        // the gaps are round trips, far below the idle timeout, so if PINGs kept the
        // connection no GOAWAY would come and the hang guard fails the test.
        let ping = encode_frames(&[P::ping(*b"stillhre")]);
        let mut pings = 0u64;
        let ended = timeout(PROMPTLY, async {
            loop {
                if a.s.write_all(&ping).await.is_err() {
                    return;
                }
                pings += 1;
                let end = a
                    .read_until(PROMPTLY, |f| {
                        f.kind == GOAWAY || (f.kind == PING && f.flags & 0x1 != 0)
                    })
                    .await;
                let goaway = a.frames.get(a.seen.wrapping_sub(1)).map(|f| f.kind) == Some(GOAWAY);
                if end != End::Found || goaway {
                    return;
                }
            }
        })
        .await;
        assert!(
            ended.is_ok(),
            "{pings} PINGs kept an idle connection open; {}",
            a.last_frames()
        );
        let end = a.read_to_end(PROMPTLY).await;
        println!("closed after {pings} PINGs ({end:?})");
        let goaways: Vec<&F> = a.frames.iter().filter(|f| f.kind == GOAWAY).collect();
        assert!(
            !goaways.is_empty() && goaways.iter().all(|g| g.is_goaway(Reason::NO_ERROR)),
            "{}",
            a.last_frames()
        );
        assert_eq!(goaways.last().expect("GOAWAY").last_stream(), 1);
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// Stream identifier exhaustion, WINDOW_UPDATE overflow.

pub fn stream_identifier_2_31_minus_1_is_served_and_no_stream_can_follow(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[P::get(MAX_WINDOW, "/")]).await;
        a.expect_served(MAX_WINDOW).await;
        // Every identifier left is lower: a connection error.
        a.send(&[P::get(1, "/again")]).await;
        let goaway = a.expect_goaway(Reason::PROTOCOL_ERROR).await;
        assert_eq!(goaway.last_stream(), MAX_WINDOW);
        assert_eq!(t.counters.requests.load(Ordering::SeqCst), 1);
        still_serves(t.addr).await;
    });
}

pub fn window_update_overflow_on_the_connection_is_flow_control_error(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        a.send(&[P::window_update(0, MAX_WINDOW)]).await;
        a.expect_goaway(Reason::FLOW_CONTROL_ERROR).await;
        still_serves(t.addr).await;
    });
}

pub fn window_update_overflow_on_a_stream_resets_it_and_the_connection_goes_on(start: Start) {
    run(async {
        let t = serve(start, Config::server());
        let mut a = Attacker::handshake(t.addr, vec![]).await;
        // An echo whose request body stays open keeps the stream open.
        a.send(&[P::request(1, "POST", "/echo"), P::data(1, "abc")])
            .await;
        let end = a
            .read_until(PROMPTLY, |f| f.kind == HEADERS && f.stream == 1)
            .await;
        assert_eq!(end, End::Found, "{}", a.last_frames());
        a.send(&[P::window_update(1, MAX_WINDOW)]).await;
        a.expect_rst(1, Reason::FLOW_CONTROL_ERROR).await;
        a.send(&[P::get(3, "/")]).await;
        a.expect_served(3).await;
        still_serves(t.addr).await;
    });
}

// ---------------------------------------------------------------------------------------------
// The list, for an adapter's test file.

/// One `#[test]` per attack of this module against the server `start` makes
/// ([`Start`]); `ignore` marks the tests an adapter cannot pass yet, each with its reason:
///
/// ```text
/// h2_testkit::attack_tests!(
///     start: start,
///     ignore: { cve_2019_9517_peer_that_never_reads_is_cut_after_write_timeout: "why" },
/// );
/// ```
///
/// A name in `ignore` that is not a test of the list fails to compile.
#[macro_export]
macro_rules! attack_tests {
    (start: $start:expr $(, ignore: { $($name:ident: $reason:literal),* $(,)? })? $(,)?) => {
        $crate::attack_tests!(@with ($) $start; $($($name: $reason),*)?);
    };
    // `$d` is `$`, for the helper macro defined here: it knows which tests are ignored.
    (@with ($d:tt) $start:expr; $($name:ident: $reason:literal),*) => {
        $(const _: () = {
            // Fails to compile when the name is not a test of the list.
            let _ = $crate::socket_attacks::$name;
        };)*
        macro_rules! __attack_test {
            $(($name) => {
                #[test]
                #[ignore = $reason]
                fn $name() {
                    $crate::socket_attacks::alone(stringify!($name), || {
                        $crate::socket_attacks::$name($start)
                    })
                }
            };)*
            ($d test:ident) => {
                #[test]
                fn $d test() {
                    $crate::socket_attacks::alone(stringify!($d test), || {
                        $crate::socket_attacks::$d test($start)
                    })
                }
            };
        }
        __attack_test!(cve_2019_9511_data_dribble_gets_frames_as_small_as_its_windows_and_nothing_queues);
        __attack_test!(cve_2019_9512_ping_flood_from_a_peer_that_does_not_read_is_enhance_your_calm);
        __attack_test!(cve_2019_9512_many_pings_from_a_peer_that_reads_are_all_answered);
        __attack_test!(cve_2019_9515_settings_flood_is_enhance_your_calm);
        __attack_test!(cve_2020_11080_settings_with_too_many_entries_is_enhance_your_calm);
        __attack_test!(cve_2019_9513_priority_flood_is_enhance_your_calm);
        __attack_test!(cve_2019_9513_priority_loops_and_idle_streams_within_the_limit_leave_the_connection_serving);
        __attack_test!(cve_2019_9514_rst_stream_flood_is_enhance_your_calm);
        __attack_test!(cve_2023_44487_rapid_reset_is_enhance_your_calm);
        __attack_test!(cve_2023_44487_resets_within_the_limit_leave_the_connection_serving);
        __attack_test!(cve_2019_9516_zero_length_headers_reset_the_stream_and_the_connection_goes_on);
        __attack_test!(cve_2019_9517_peer_that_never_reads_large_responses_keeps_memory_bounded);
        __attack_test!(cve_2019_9517_peer_that_never_reads_is_cut_after_write_timeout);
        __attack_test!(peer_that_never_reads_after_a_flood_is_closed_without_reading_its_goaway);
        __attack_test!(cve_2019_9518_empty_data_frames_flood_is_enhance_your_calm);
        __attack_test!(continuation_flood_endless_continuation_frames_is_enhance_your_calm);
        __attack_test!(continuation_flood_huge_header_block_is_enhance_your_calm_before_decoding);
        __attack_test!(continuation_without_end_headers_delivers_nothing_and_does_not_hold_the_connection);
        __attack_test!(hpack_bomb_refuses_the_stream_without_inflating_memory);
        __attack_test!(header_list_over_the_limit_refuses_the_stream_and_the_connection_goes_on);
        __attack_test!(too_many_header_fields_refuse_the_stream_and_the_connection_goes_on);
        __attack_test!(slow_preface_is_settings_timeout);
        __attack_test!(absent_preface_is_closed_after_handshake_timeout);
        __attack_test!(idle_connection_is_shut_down_gracefully_and_pings_do_not_keep_it);
        __attack_test!(stream_identifier_2_31_minus_1_is_served_and_no_stream_can_follow);
        __attack_test!(window_update_overflow_on_the_connection_is_flow_control_error);
        __attack_test!(window_update_overflow_on_a_stream_resets_it_and_the_connection_goes_on);
    };
}
