//! Heap per idle connection, measured with a counting global allocator.
//!
//! ```sh
//! cargo run --release -p benches --bin memory -- [--connections N] [--json FILE]
//! ```
//! - core: N client/server pairs of `h2core::Connection` (each boxed, so the struct itself
//!   counts) that completed the preface and SETTINGS exchange (RFC 9113 §3.4, §6.5.3), moved
//!   over memory with `benches::pair`; then the same after one request/response each (HPACK
//!   tables filled, a closed stream remembered). Live heap is split by role by dropping the
//!   servers, then the clients.
//! - adapters: N idle h2c connections to an in-process server, `h2-tokio`'s and one on
//!   hyperium's `h2` (given h2core's default settings, as `benches::h2peer` does). The clients are blocking `std` sockets
//!   on this thread that speak just the preface, an empty SETTINGS and the ACK, and allocate
//!   nothing per connection; the live heap delta is the server's.

use benches::h2peer::{CONNECTION_WINDOW, MAX_CONCURRENT_STREAMS, STREAM_WINDOW};
use benches::pair::{Exchange, Pair};
use bytes::Bytes;
use h2core::Connection;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The system allocator, counting.
struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc(layout) };
        trace::alloc(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        trace::alloc(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(layout.size() as u64, Relaxed);
        trace::free(ptr);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Relaxed);
        FREED.fetch_add(layout.size() as u64, Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        trace::free(ptr);
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        trace::alloc(new, new_size);
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// While tracing, live allocations are recorded (address, size) in a fixed table, so that the
/// largest ones of one connection can be listed without allocating inside the allocator.
mod trace {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

    const SLOTS: usize = 4096;
    static ON: AtomicBool = AtomicBool::new(false);
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static PTR: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static SIZE: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

    pub fn alloc(ptr: *mut u8, size: usize) {
        if ON.load(Relaxed) {
            let i = NEXT.fetch_add(1, Relaxed);
            if i < SLOTS {
                SIZE[i].store(size, Relaxed);
                PTR[i].store(ptr as usize, Relaxed);
            }
        }
    }

    pub fn free(ptr: *mut u8) {
        if ON.load(Relaxed) {
            let end = NEXT.load(Relaxed).min(SLOTS);
            if let Some(slot) = PTR[..end].iter().find(|p| p.load(Relaxed) == ptr as usize) {
                slot.store(0, Relaxed);
            }
        }
    }

    pub fn start() {
        NEXT.store(0, Relaxed);
        ON.store(true, Relaxed);
    }

    /// Stops tracing; the sizes of the allocations still live, largest first.
    pub fn stop() -> Vec<usize> {
        ON.store(false, Relaxed);
        let end = NEXT.load(Relaxed).min(SLOTS);
        let mut live: Vec<usize> = (0..end)
            .filter(|&i| PTR[i].load(Relaxed) != 0)
            .map(|i| SIZE[i].load(Relaxed))
            .collect();
        live.sort_unstable_by(|a, b| b.cmp(a));
        live
    }
}

/// Heap counters at one moment.
#[derive(Clone, Copy)]
struct Snapshot {
    allocated: u64,
    freed: u64,
    allocations: u64,
}

impl Snapshot {
    fn now() -> Snapshot {
        Snapshot {
            allocated: ALLOCATED.load(Relaxed),
            freed: FREED.load(Relaxed),
            allocations: ALLOCATIONS.load(Relaxed),
        }
    }

    fn live(self) -> i64 {
        self.allocated as i64 - self.freed as i64
    }
}

/// Per-connection figures from two snapshots around `n` connections.
#[derive(Debug)]
struct PerConnection {
    live: f64,
    allocated: f64,
    allocations: f64,
}

fn per(before: Snapshot, after: Snapshot, n: usize) -> PerConnection {
    PerConnection {
        live: (after.live() - before.live()) as f64 / n as f64,
        allocated: (after.allocated - before.allocated) as f64 / n as f64,
        allocations: (after.allocations - before.allocations) as f64 / n as f64,
    }
}

impl PerConnection {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "live": self.live,
            "allocated": self.allocated,
            "allocations": self.allocations,
        })
    }
}

/// The core, idle after the handshake (`requests` = 0) or after `requests` pairs each.
fn core(n: usize, requests: usize) -> serde_json::Value {
    let exchange = Exchange::new(Bytes::from_static(b"hello\n"));
    let mut clients: Vec<Box<Connection>> = Vec::with_capacity(n);
    let mut servers: Vec<Box<Connection>> = Vec::with_capacity(n);
    let before = Snapshot::now();
    for _ in 0..n {
        let now = Instant::now();
        let mut pair = Pair::new(now);
        pair.handshake(now);
        if requests > 0 {
            exchange.run(&mut pair, requests, 1, now);
            pair.handshake(now);
        }
        let (c, s) = pair.into_connections();
        clients.push(Box::new(c));
        servers.push(Box::new(s));
    }
    let after = Snapshot::now();
    let pair = per(before, after, n);
    trace::start();
    let mut one = Pair::new(Instant::now());
    one.handshake(Instant::now());
    if requests > 0 {
        exchange.run(&mut one, requests, 1, Instant::now());
        one.handshake(Instant::now());
    }
    let one = one.into_connections();
    let largest = trace::stop();
    drop(one);
    drop(std::mem::take(&mut servers));
    let without_servers = Snapshot::now();
    drop(std::mem::take(&mut clients));
    let without_any = Snapshot::now();
    let server_live = (after.live() - without_servers.live()) as f64 / n as f64;
    let client_live = (without_servers.live() - without_any.live()) as f64 / n as f64;
    println!(
        "core, {n} pairs, {requests} request(s) each: {:.0} B live per pair \
         (client {client_live:.0} B, server {server_live:.0} B; struct {} B each), \
         {:.0} B allocated in {:.1} allocations per pair\n  live allocations of one pair, \
         largest first: {largest:?}",
        pair.live,
        std::mem::size_of::<Connection>(),
        pair.allocated,
        pair.allocations
    );
    serde_json::json!({
        "pairs": n,
        "requests": requests,
        "pair": pair.json(),
        "client_live": client_live,
        "server_live": server_live,
        "struct_size": std::mem::size_of::<Connection>(),
        "largest_live_allocations": largest,
    })
}

/// Steady state: heap allocations per request/response pair over one warm pair of connections
/// (client and server together), with `concurrency` streams in flight. The application's side
/// (`benches::pair::Exchange`) adds two: the cloned request and response header lists.
fn core_per_request(concurrency: usize, body: usize) -> serde_json::Value {
    const REQUESTS: usize = 10_000;
    let exchange = Exchange::new(Bytes::from(vec![b'x'; body]));
    let now = Instant::now();
    let mut pair = Pair::new(now);
    pair.handshake(now);
    // Warm: tables, closed-stream memory and buffers reach their steady size.
    exchange.run(&mut pair, 2 * REQUESTS, concurrency, now);
    let before = Snapshot::now();
    exchange.run(&mut pair, REQUESTS, concurrency, now);
    let after = Snapshot::now();
    let allocations = (after.allocations - before.allocations) as f64 / REQUESTS as f64;
    let bytes = (after.allocated - before.allocated) as f64 / REQUESTS as f64;
    println!(
        "core steady state, {body}-byte body, {concurrency} in flight: {allocations:.1} \
         allocations ({bytes:.0} B) per request/response, client and server together"
    );
    serde_json::json!({
        "concurrency": concurrency,
        "body": body,
        "allocations": allocations,
        "bytes": bytes,
    })
}

/// RFC 9113 §3.4 client preface, an empty SETTINGS frame, then the SETTINGS ACK once the
/// server's SETTINGS arrived; returns when the server acknowledged ours.
fn idle_client(addr: SocketAddr, buf: &mut [u8]) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")?;
    let (mut got_settings, mut got_ack) = (false, false);
    while !(got_settings && got_ack) {
        let mut head = [0u8; 9];
        s.read_exact(&mut head)?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        s.read_exact(&mut buf[..len])?;
        if head[3] == 0x4 {
            if head[4] & 0x1 != 0 {
                got_ack = true;
            } else {
                got_settings = true;
                s.write_all(b"\0\0\0\x04\x01\0\0\0\0")?;
            }
        }
    }
    Ok(s)
}

/// Live heap per idle connection of the server listening on `addr` (started in `rt`).
fn adapter(name: &str, addr: SocketAddr, n: usize) -> serde_json::Value {
    let mut buf = vec![0u8; 1 << 16];
    let mut sockets = Vec::with_capacity(n);
    // One connection first, so lazily built state of the server (not per connection) is not
    // charged to the measured ones.
    let warm = idle_client(addr, &mut buf).expect("connect");
    settle();
    let before = Snapshot::now();
    for _ in 0..n {
        sockets.push(idle_client(addr, &mut buf).expect("connect"));
    }
    settle();
    let after = Snapshot::now();
    let p = per(before, after, n);
    trace::start();
    let one = idle_client(addr, &mut buf).expect("connect");
    settle();
    let largest = trace::stop();
    println!(
        "{name}: {n} idle h2c connections, {:.0} B live per connection, \
         {:.0} B allocated in {:.1} allocations\n  live allocations of one connection, \
         largest first: {largest:?}",
        p.live, p.allocated, p.allocations
    );
    drop(one);
    drop(sockets);
    drop(warm);
    serde_json::json!({
        "connections": n,
        "per_connection": p.json(),
        "largest_live_allocations": largest,
    })
}

/// Lets the server's tasks finish reacting to the last bytes.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

async fn h2_tokio_server() -> SocketAddr {
    let server = h2_tokio::Server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve(|_req: http::Request<h2_tokio::Body>| async {
        http::Response::new(h2_tokio::Body::from("hello\n"))
    }));
    addr
}

async fn h2_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::Builder::new()
                    .initial_window_size(STREAM_WINDOW)
                    .initial_connection_window_size(CONNECTION_WINDOW)
                    .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
                    .handshake::<_, Bytes>(socket)
                    .await
                else {
                    return;
                };
                while let Some(Ok(_)) = conn.accept().await {}
            });
        }
    });
    addr
}

fn main() {
    let mut n = 1000;
    let mut json_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--connections" => n = args.next().and_then(|v| v.parse().ok()).expect("N"),
            "--json" => json_path = args.next(),
            other => {
                eprintln!(
                    "unknown argument {other}\nusage: memory [--connections N] [--json FILE]"
                );
                std::process::exit(2);
            }
        }
    }
    let idle = core(n, 0);
    let used = core(n, 1);
    let per_request: Vec<serde_json::Value> = [(1, 6), (100, 6), (100, 16 * 1024)]
        .into_iter()
        .map(|(c, body)| core_per_request(c, body))
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let addr = rt.block_on(h2_tokio_server());
    let ours = adapter("h2-tokio", addr, n);
    let addr = rt.block_on(h2_server());
    let theirs = adapter("h2 (hyperium)", addr, n);
    let ratio = theirs["per_connection"]["live"].as_f64().unwrap_or(0.0)
        / ours["per_connection"]["live"].as_f64().unwrap_or(1.0);
    println!("adapter ratio (h2 live / h2-tokio live): {ratio:.2}");
    if let Some(path) = json_path {
        let json = serde_json::json!({
            "core_idle": idle,
            "core_after_request": used,
            "core_per_request": per_request,
            "h2_tokio": ours,
            "h2": theirs,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json).expect("json")).expect("write");
    }
}
