//! Bulk download over loopback: GETs of 1 GiB through `h2-tokio`'s server and client (h2c,
//! RFC 9113 §3.3) beside a raw TCP copy of the same bytes, both over one warm connection.
//!
//! ```sh
//! cargo run --release -p benches --bin bulk -- [--bytes N] [--rounds R] [--json FILE] \
//!     [--example NAME=SERVER_BINARY]...
//! ```
//! Both run in this process on one multi-thread tokio runtime, servers on 127.0.0.1:0.
//! - h2 (layers: `h2-tokio` client and server, `h2core` framing and flow control, their
//!   connection tasks and body channels, tokio TCP): the handler answers with a
//!   `Body::channel` fed [`CHUNK`]-byte clones of one buffer (no copy: DATA frames are slices
//!   of it); the client reads the body to the end, releasing flow control as it goes. The
//!   client's connection task reads the socket [`READ_CHUNK`] bytes at a time.
//! - raw TCP (layers: tokio TCP only, no framing): the server writes the same chunks from one
//!   reused buffer with `write_all` after a one-byte "go"; the client reads into a
//!   [`READ_CHUNK`]-byte `BytesMut` the way the h2 client's connection task does (`reserve`,
//!   `read_buf`) and discards.
//!
//! Each side opens one connection before the rounds and keeps it: the h2 client's pool reuses
//! its connection (checked: one connection opened) and the raw TCP client sends a "go" per
//! round on the same socket. One untimed round on each warms both connections up (windows,
//! buffers, congestion window). The clock runs from the request (raw TCP: the "go") to the
//! last byte. Rounds alternate between the two; the median of each is reported, and the ratio
//! h2 / raw.
//!
//! With `--example NAME=PATH` (benches/run.sh passes the `server` example of h2-tokio,
//! h2-async-std and h2-mio), the same is done against example servers as the programs they
//! are, each in a process of its own started with `--listen 127.0.0.1:0`:
//! - example (layers: the adapter's server, `h2-http`, `h2core`, in its own process; our
//!   `h2-tokio` client here): `GET /bytes/N`, which the example serves as [`EXAMPLE_CHUNK`]-byte
//!   slices of one static buffer under flow control; the client reads the body to its end.
//! - raw TCP between processes (layers: std TCP in the server process, tokio TCP here, no
//!   framing): this binary started again as a server process (`--raw-server`) that writes the
//!   same [`EXAMPLE_CHUNK`]-byte slices of one buffer with blocking `write_all` after each "go";
//!   the reader is the raw TCP reader above ([`READ_CHUNK`]-byte reads on a warm connection).
//!
//! Each example's client and the raw reader connect once, before the rounds, and run one
//! untimed round first; each round measures every transfer once, in turn.

use bytes::{Bytes, BytesMut};
use h2_tokio::{Body, Client, Server};
use http::{Request, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Bytes per body chunk (h2) and per `write_all` (raw TCP).
const CHUNK: usize = 64 * 1024;
/// The body chunk of the demo examples' `GET /bytes/N` (`h2_demo::fill` slices one static
/// buffer of this size), and the write size of the raw TCP server process beside them.
const EXAMPLE_CHUNK: usize = 16 * 1024;
/// The read size of `h2-tokio`'s connection task (it reserves this much before each read),
/// used by the raw TCP reader too.
const READ_CHUNK: usize = h2core::shell::READ_CHUNK;

struct Args {
    bytes: u64,
    rounds: usize,
    json: Option<String>,
    /// Example server binaries to measure: (name, path).
    examples: Vec<(String, String)>,
    /// Run as the raw TCP server process of the examples' baseline, listening here.
    raw_server: bool,
    listen: String,
}

fn args() -> Args {
    let mut a = Args {
        bytes: 1 << 30,
        rounds: 3,
        json: None,
        examples: Vec::new(),
        raw_server: false,
        listen: "127.0.0.1:0".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--bytes" => a.bytes = value().parse().expect("--bytes N"),
            "--rounds" => a.rounds = value().parse().expect("--rounds R"),
            "--json" => a.json = Some(value()),
            "--example" => {
                let v = value();
                let (name, path) = v.split_once('=').expect("--example NAME=PATH");
                a.examples.push((name.to_owned(), path.to_owned()));
            }
            "--raw-server" => a.raw_server = true,
            "--listen" => a.listen = value(),
            other => {
                eprintln!("unknown argument {other}");
                eprintln!(
                    "usage: bulk [--bytes N] [--rounds R] [--json FILE] [--example NAME=PATH]..."
                );
                std::process::exit(2);
            }
        }
    }
    // A multiple of both chunk sizes (CHUNK is one of EXAMPLE_CHUNK).
    a.bytes = a.bytes.div_ceil(CHUNK as u64) * CHUNK as u64;
    a
}

/// The h2 server: every request gets `total` bytes in `CHUNK`-byte clones of one buffer.
async fn h2_server(total: u64) -> std::io::Result<SocketAddr> {
    let server = Server::bind("127.0.0.1:0").await?;
    let addr = server.local_addr()?;
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    tokio::spawn(server.serve(move |_req: Request<Body>| {
        let chunk = chunk.clone();
        async move {
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                for _ in 0..total / CHUNK as u64 {
                    if tx.send_data(chunk.clone()).await.is_err() {
                        return;
                    }
                }
            });
            Response::new(body)
        }
    }));
    Ok(addr)
}

async fn h2_round(client: &Client, addr: SocketAddr) -> Result<(u64, Duration), h2_tokio::Error> {
    h2_get(client, addr, "/bulk").await
}

/// GET `path` and read the body to its end: the bytes and the time from the request on.
async fn h2_get(
    client: &Client,
    addr: SocketAddr,
    path: &str,
) -> Result<(u64, Duration), h2_tokio::Error> {
    let request = Request::get(format!("http://{addr}{path}"))
        .body(Body::empty())
        .expect("valid request");
    let start = Instant::now();
    let mut body = client.send(request).await?.into_body();
    let mut read = 0;
    while let Some(chunk) = body.data().await {
        read += chunk?.len() as u64;
    }
    Ok((read, start.elapsed()))
}

/// The raw TCP server: after each one-byte "go", `total` bytes from one reused buffer, on the
/// same connection.
async fn tcp_server(total: u64) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let buf = vec![b'x'; CHUNK];
                let mut go = [0u8; 1];
                while socket.read_exact(&mut go).await.is_ok() {
                    for _ in 0..total / CHUNK as u64 {
                        if socket.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    Ok(addr)
}

/// One round on the warm socket: "go", then exactly `total` bytes. Returns the bytes, the
/// time and the number of reads.
async fn tcp_round(
    socket: &mut tokio::net::TcpStream,
    buf: &mut BytesMut,
    total: u64,
) -> std::io::Result<(u64, Duration, u64)> {
    let start = Instant::now();
    socket.write_all(b"g").await?;
    let (mut read, mut reads) = (0, 0);
    while read < total {
        buf.reserve(READ_CHUNK);
        let n = socket.read_buf(buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        read += n as u64;
        reads += 1;
        buf.clear();
    }
    Ok((read, start.elapsed(), reads))
}

/// A server in a child process of its own, killed when dropped.
struct ServerProcess {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `program args... --listen 127.0.0.1:0` and reads its address from its first
    /// line, `listening on ADDR` (what every demo server prints first).
    fn start(program: &str, args: &[&str]) -> std::io::Result<ServerProcess> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(program)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        // Keep reading (and dropping) its output so a late line cannot block it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
        let mut process = ServerProcess {
            child,
            addr: "127.0.0.1:0".parse().expect("an address"),
        };
        match addr {
            Some(addr) => {
                process.addr = addr;
                Ok(process)
            }
            None => Err(std::io::Error::other(format!(
                "{program}: first line {line:?}, not `listening on ADDR`"
            ))),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--raw-server`: the raw TCP server process beside the examples. After each one-byte "go"
/// on a connection, `total` bytes as [`EXAMPLE_CHUNK`]-byte `write_all`s of one buffer;
/// blocking std TCP, a thread per connection, no runtime.
fn raw_server(listen: &str, total: u64) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(listen)?;
    println!("listening on {}", listener.local_addr()?);
    for socket in listener.incoming() {
        let mut socket = socket?;
        let _ = socket.set_nodelay(true);
        std::thread::spawn(move || {
            let buf = [b'x'; EXAMPLE_CHUNK];
            let mut go = [0u8; 1];
            while socket.read_exact(&mut go).is_ok() {
                for _ in 0..total / EXAMPLE_CHUNK as u64 {
                    if socket.write_all(&buf).is_err() {
                        return;
                    }
                }
            }
        });
    }
    Ok(())
}

/// One example server under measurement: its process and our client's warm connection.
struct Example {
    name: String,
    path: String,
    process: ServerProcess,
    client: Client,
    seconds: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gib_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds / (1u64 << 30) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    if a.raw_server {
        // `--raw-server --bytes N --listen ADDR`, started by `measure` below.
        return Ok(raw_server(&a.listen, a.bytes)?);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(a))
}

async fn measure(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let h2_addr = h2_server(a.bytes).await?;
    let tcp_addr = tcp_server(a.bytes).await?;
    let client = Client::connect(h2_addr).await?;
    let mut socket = tokio::net::TcpStream::connect(tcp_addr).await?;
    let _ = socket.set_nodelay(true);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Warm-up rounds, untimed.
    let (n, _) = h2_round(&client, h2_addr).await?;
    assert_eq!(n, a.bytes, "h2: short body");
    let (n, _, _) = tcp_round(&mut socket, &mut buf, a.bytes).await?;
    assert_eq!(n, a.bytes, "raw TCP: short read");
    // The example servers and the raw TCP server process beside them, each warmed up.
    let mut examples = Vec::new();
    let mut raw_process = None;
    if !a.examples.is_empty() {
        let me = std::env::current_exe()?;
        let bytes = a.bytes.to_string();
        let process = ServerProcess::start(
            me.to_str().expect("a UTF-8 path"),
            &["--raw-server", "--bytes", &bytes],
        )?;
        let mut socket = tokio::net::TcpStream::connect(process.addr).await?;
        let _ = socket.set_nodelay(true);
        let (n, _, _) = tcp_round(&mut socket, &mut buf, a.bytes).await?;
        assert_eq!(n, a.bytes, "raw TCP process: short read");
        raw_process = Some((process, socket, Vec::new(), 0u64));
    }
    for (name, path) in &a.examples {
        let process = ServerProcess::start(path, &[])?;
        let client = Client::connect(process.addr).await?;
        let (n, _) = h2_get(&client, process.addr, &format!("/bytes/{}", a.bytes)).await?;
        assert_eq!(n, a.bytes, "{name}: short body");
        examples.push(Example {
            name: name.clone(),
            path: path.clone(),
            process,
            client,
            seconds: Vec::new(),
        });
    }
    let (mut h2_s, mut tcp_s, mut tcp_reads) = (Vec::new(), Vec::new(), 0);
    for round in 1..=a.rounds {
        let (n, t) = h2_round(&client, h2_addr).await?;
        assert_eq!(n, a.bytes, "h2: short body");
        h2_s.push(t.as_secs_f64());
        let (n, t, reads) = tcp_round(&mut socket, &mut buf, a.bytes).await?;
        assert_eq!(n, a.bytes, "raw TCP: short read");
        tcp_s.push(t.as_secs_f64());
        tcp_reads += reads;
        eprintln!(
            "round {round}: h2-tokio {:.2} GiB/s, raw TCP {:.2} GiB/s",
            gib_s(a.bytes, h2_s[round - 1]),
            gib_s(a.bytes, tcp_s[round - 1])
        );
        for e in &mut examples {
            let path = format!("/bytes/{}", a.bytes);
            let (n, t) = h2_get(&e.client, e.process.addr, &path).await?;
            assert_eq!(n, a.bytes, "{}: short body", e.name);
            e.seconds.push(t.as_secs_f64());
            eprintln!(
                "round {round}: example {} {:.2} GiB/s",
                e.name,
                gib_s(a.bytes, t.as_secs_f64())
            );
        }
        if let Some((_, socket, seconds, reads)) = &mut raw_process {
            let (n, t, r) = tcp_round(socket, &mut buf, a.bytes).await?;
            assert_eq!(n, a.bytes, "raw TCP process: short read");
            seconds.push(t.as_secs_f64());
            *reads += r;
            eprintln!(
                "round {round}: raw TCP between processes {:.2} GiB/s",
                gib_s(a.bytes, t.as_secs_f64())
            );
        }
    }
    let opened = client.stats().connections_opened;
    assert_eq!(
        opened, 1,
        "h2: the client opened {opened} connections, not one"
    );
    let (h2_med, tcp_med) = (median(h2_s.clone()), median(tcp_s.clone()));
    let ratio = tcp_med / h2_med;
    println!(
        "bulk {} MiB: h2-tokio {:.2} GiB/s, raw TCP {:.2} GiB/s, ratio {:.2} (median of {})",
        a.bytes >> 20,
        gib_s(a.bytes, h2_med),
        gib_s(a.bytes, tcp_med),
        ratio,
        a.rounds
    );
    let mut examples_json = Vec::new();
    let mut raw_process_json = serde_json::Value::Null;
    if let Some((_, _, seconds, reads)) = &raw_process {
        let raw_med = median(seconds.clone());
        for e in &examples {
            let opened = e.client.stats().connections_opened;
            assert_eq!(
                opened, 1,
                "{}: the client opened {opened} connections",
                e.name
            );
            let med = median(e.seconds.clone());
            println!(
                "bulk {} MiB: example {} {:.2} GiB/s, raw TCP between processes {:.2} GiB/s, \
                 ratio {:.2} (median of {})",
                a.bytes >> 20,
                e.name,
                gib_s(a.bytes, med),
                gib_s(a.bytes, raw_med),
                raw_med / med,
                a.rounds
            );
            examples_json.push(serde_json::json!({
                "name": e.name,
                "binary": e.path,
                "seconds": e.seconds,
                "gib_s": gib_s(a.bytes, med),
                "connections_opened": opened,
                "ratio": raw_med / med,
            }));
        }
        raw_process_json = serde_json::json!({
            "chunk": EXAMPLE_CHUNK,
            "seconds": seconds,
            "gib_s": gib_s(a.bytes, raw_med),
            "mean_read": (a.bytes * a.rounds as u64) as f64 / (*reads).max(1) as f64,
        });
    }
    if let Some(path) = a.json {
        let json = serde_json::json!({
            "bytes": a.bytes,
            "chunk": CHUNK,
            "read_chunk": READ_CHUNK,
            "rounds": a.rounds,
            "h2_tokio_seconds": h2_s,
            "raw_tcp_seconds": tcp_s,
            "h2_tokio_gib_s": gib_s(a.bytes, h2_med),
            "raw_tcp_gib_s": gib_s(a.bytes, tcp_med),
            "raw_tcp_mean_read": (a.bytes * a.rounds as u64) as f64 / tcp_reads.max(1) as f64,
            "h2_connections_opened": opened,
            "ratio": ratio,
            "workers": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "examples": examples_json,
            "raw_process": raw_process_json,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
