//! HTTP/2 over cleartext TCP by prior knowledge with only `std::net` and `h2core`: the proof
//! that the core is sans-IO. One thread per connection; the socket read timeout is our timer.
//!
//! ```sh
//! cargo run --release -p h2core --example blocking_server -- --listen 127.0.0.1:8080
//! curl --http2-prior-knowledge http://127.0.0.1:8080/
//! ```
//! Routes: `GET /` → `hello\n`; `GET /bytes/N` → N bytes; `POST /echo` → the body back; else 404.

// This example is an adapter, not the core: it owns the clock (clippy.toml forbids it in h2core).
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Event, Header, StreamId};
use std::collections::HashMap;
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().expect("--listen ADDR"),
            other => {
                eprintln!("unknown argument {other}; usage: blocking_server [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(&listen)?;
    // Tests read the port back from this line.
    println!("listening on {}", listener.local_addr()?);
    for socket in listener.incoming() {
        let Ok(socket) = socket else { continue };
        std::thread::spawn(move || {
            if let Err(e) = serve(socket) {
                eprintln!("connection: {e}");
            }
        });
    }
    Ok(())
}

/// A request being received: its head, and the body so far (for /echo).
struct Request {
    method: Bytes,
    path: Bytes,
    body: Vec<Bytes>,
}

fn serve(mut socket: TcpStream) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut conn = Connection::new(Config::server(), Instant::now());
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut out: Vec<Bytes> = Vec::new();
    let mut requests: HashMap<StreamId, Request> = HashMap::new();
    loop {
        flush(&mut conn, &mut socket, &mut out)?;
        if conn.is_closed() {
            return Ok(());
        }
        // The socket's read timeout is the one timer this adapter owns.
        let now = Instant::now();
        let wait = conn
            .poll_timeout()
            .map(|t| {
                t.saturating_duration_since(now)
                    .max(Duration::from_millis(1))
            })
            .unwrap_or(Duration::from_secs(60));
        socket.set_read_timeout(Some(wait))?;
        buf.reserve(16 * 1024);
        let start = buf.len();
        buf.resize(start + 16 * 1024, 0);
        match socket.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                conn.handle_eof(Instant::now());
            }
            Ok(n) => {
                buf.truncate(start + n);
                let _ = conn.handle_input(Instant::now(), &mut buf);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                buf.truncate(start);
                conn.handle_timeout(Instant::now());
            }
            Err(e) => return Err(e),
        }
        while let Some(event) = conn.poll_event() {
            handle(&mut conn, &mut requests, event);
        }
    }
}

fn handle(conn: &mut Connection, requests: &mut HashMap<StreamId, Request>, event: Event) {
    match event {
        Event::RequestReceived {
            stream,
            headers,
            end_stream,
        } => {
            let field = |name: &str| {
                headers
                    .iter()
                    .find(|h| h.name == name.as_bytes())
                    .map(|h| h.value.clone())
                    .unwrap_or_default()
            };
            requests.insert(
                stream,
                Request {
                    method: field(":method"),
                    path: field(":path"),
                    body: Vec::new(),
                },
            );
            if end_stream {
                respond(conn, requests, stream);
            }
        }
        Event::DataReceived {
            stream,
            data,
            end_stream,
            ..
        } => {
            conn.release_capacity(stream, data.len());
            if let Some(req) = requests.get_mut(&stream) {
                req.body.push(data);
            }
            if end_stream {
                respond(conn, requests, stream);
            }
        }
        Event::TrailersReceived { stream, .. } => respond(conn, requests, stream),
        Event::StreamReset { stream, .. } => {
            requests.remove(&stream);
        }
        _ => {}
    }
}

fn respond(conn: &mut Connection, requests: &mut HashMap<StreamId, Request>, stream: StreamId) {
    let Some(req) = requests.remove(&stream) else {
        return;
    };
    let path = std::str::from_utf8(&req.path).unwrap_or("");
    let (status, body): (&str, Vec<Bytes>) = match (&req.method[..], path) {
        (b"GET", "/") => ("200", vec![Bytes::from_static(b"hello\n")]),
        (b"POST", "/echo") | (b"PUT", "/echo") => ("200", req.body),
        (b"GET", p) if p.starts_with("/bytes/") => match p["/bytes/".len()..].parse::<usize>() {
            Ok(n) if n <= 1 << 30 => ("200", vec![Bytes::from(vec![b'x'; n])]),
            _ => ("400", vec![Bytes::from_static(b"bad length\n")]),
        },
        _ => ("404", vec![Bytes::from_static(b"not found\n")]),
    };
    let len: usize = body.iter().map(Bytes::len).sum();
    let headers = vec![
        Header::new(":status", status),
        Header::new("content-length", len.to_string()),
    ];
    if conn.send_response(stream, headers, len == 0).is_err() {
        return;
    }
    let n = body.len();
    for (i, chunk) in body.into_iter().enumerate() {
        let _ = conn.send_data(stream, chunk, i + 1 == n);
    }
}

fn flush(
    conn: &mut Connection,
    socket: &mut TcpStream,
    out: &mut Vec<Bytes>,
) -> std::io::Result<()> {
    loop {
        out.clear();
        if conn.poll_transmit(Instant::now(), out) == 0 {
            return Ok(());
        }
        let mut chunks: &mut [Bytes] = out;
        while !chunks.is_empty() {
            let slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
            let mut n = socket.write_vectored(&slices)?;
            while n > 0 {
                if n >= chunks[0].len() {
                    n -= chunks[0].len();
                    chunks = &mut chunks[1..];
                } else {
                    let _ = chunks[0].split_to(n);
                    n = 0;
                }
            }
            while chunks.first().is_some_and(|c| c.is_empty()) {
                chunks = &mut chunks[1..];
            }
        }
    }
}
