//! The demo servers' memory when clients open many downloads and never read them: what the
//! server holds must be bounded by the flow-control windows (RFC 9113 §5.2), not by the
//! bodies' lengths. Measured on the example server's own process (a child of the test), so
//! nothing else running in the test binary counts.

use crate::interop::{Scratch, ServerProcess, ServerSpec};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Connections, streams on each, and the body each stream asks for.
const CONNECTIONS: usize = 8;
const STREAMS: u32 = 100;
const BODY: &str = "/bytes/1048576";

/// The most the server may grow: far below the 800 MiB the bodies add up to.
const MAX_GROWTH_KIB: u64 = 64 * 1024;

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// A frame header (RFC 9113 §4.1) and its payload.
fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// The client's side of one connection: the preface, empty SETTINGS, `STREAMS` GETs of
/// [`BODY`] (HPACK by hand: indexed `:method GET` and `:scheme http`, literal `:path` and
/// `:authority`, RFC 7541 §6.1-6.2), then a PING whose ACK tells the server has read them all.
/// No WINDOW_UPDATE is ever sent: the server may send 65,535 bytes of DATA on the connection.
fn requests() -> Vec<u8> {
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    frame(&mut out, 0x4, 0, 0, &[]);
    let mut block = vec![0x82, 0x86, 0x04, BODY.len() as u8];
    block.extend_from_slice(BODY.as_bytes());
    block.extend_from_slice(&[0x01, 1, b'x']);
    for i in 0..STREAMS {
        // END_STREAM | END_HEADERS.
        frame(&mut out, 0x1, 0x5, 2 * i + 1, &block);
    }
    frame(&mut out, 0x6, 0, 0, b"barrier!");
    out
}

/// Reads frames until a PING ACK (RFC 9113 §6.7) arrives; false if the connection ended.
fn read_until_ping_ack(socket: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut at = 0;
        while buf.len() >= at + 9 {
            let len = u32::from_be_bytes([0, buf[at], buf[at + 1], buf[at + 2]]) as usize;
            if buf.len() < at + 9 + len {
                break;
            }
            if buf[at + 3] == 0x6 && buf[at + 4] & 0x1 == 0x1 {
                return true;
            }
            at += 9 + len;
        }
        buf.drain(..at);
        match socket.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// 8 connections x 100 streams of `GET /bytes/1048576` whose client never reads a byte of
/// body: the server grows by less than 64 MiB (the bodies would be 800 MiB).
pub fn unread_downloads_keep_the_server_small(spec: &ServerSpec) {
    let scratch = Scratch::new("unread_downloads_keep_the_server_small");
    let server = ServerProcess::start(spec, &scratch, &[]);
    let pid = server.pid();
    let before = status_kib(pid, "VmRSS");
    let mut sockets = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut socket = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        // A hang guard only: the ACK comes as soon as the server read the requests.
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        socket.write_all(&requests()).expect("send requests");
        sockets.push(socket);
    }
    for socket in &mut sockets {
        // The server read every request of this connection and ran their handlers (the
        // async servers answer in the connection's task before the ACK is written).
        assert!(
            read_until_ping_ack(socket),
            "no PING ACK; server stderr:\n{}",
            server.stderr()
        );
    }
    let peak = status_kib(pid, "VmHWM");
    let growth = peak.saturating_sub(before);
    println!("server VmRSS {before} KiB before, peak {peak} KiB with every stream open");
    assert!(
        growth < MAX_GROWTH_KIB,
        "the server grew by {growth} KiB for {CONNECTIONS} x {STREAMS} unread streams of {BODY}"
    );
    drop(sockets);
}
