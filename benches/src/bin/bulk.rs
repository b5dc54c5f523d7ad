//! Bulk download over loopback: GETs of 1 GiB through `h2-tokio`'s server and client (h2c,
//! RFC 9113 §3.3) beside a raw TCP copy of the same bytes, both over one warm connection.
//!
//! ```sh
//! cargo run --release -p benches --bin bulk -- [--bytes N] [--rounds R] [--json FILE]
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

use bytes::{Bytes, BytesMut};
use h2_tokio::{Body, Client, Server};
use http::{Request, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Bytes per body chunk (h2) and per `write_all` (raw TCP).
const CHUNK: usize = 64 * 1024;
/// The read size of `h2-tokio`'s connection task (it reserves this much before each read),
/// used by the raw TCP reader too.
const READ_CHUNK: usize = h2core::shell::READ_CHUNK;

struct Args {
    bytes: u64,
    rounds: usize,
    json: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        bytes: 1 << 30,
        rounds: 3,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--bytes" => a.bytes = value().parse().expect("--bytes N"),
            "--rounds" => a.rounds = value().parse().expect("--rounds R"),
            "--json" => a.json = Some(value()),
            other => {
                eprintln!("unknown argument {other}");
                eprintln!("usage: bulk [--bytes N] [--rounds R] [--json FILE]");
                std::process::exit(2);
            }
        }
    }
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
    let request = Request::get(format!("http://{addr}/bulk"))
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gib_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds / (1u64 << 30) as f64
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
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
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}
