//! HTTP/1.1 connections have deadlines (the shell's `Http1Timer`, RFC 9112 §9.5): a client
//! trickling a request head (slowloris) gets `408 Request Timeout` and the close within
//! `Config::handshake_timeout`; a keep-alive connection that idles is closed after
//! `Config::idle_timeout`; a client that connects and says nothing is dropped at the
//! handshake deadline. Timeouts are shortened through `Server::config`.
//!
//! The tests wait for the outcome (408, EOF) and never assert how long it took: CI shares two
//! cores, so a wall-clock bound only measures the machine. When each deadline falls is
//! h2core's `Http1Timer` tests' business (`h2core/tests/shell.rs`, on a virtual clock); here a
//! deadline that never fires fails the hang guard, and a wrong one shows in what is received
//! (408 for a begun head, a silent close for an idle or silent connection).

mod common;

use h2_mio::{Body, Server};
use h2core::Config;
use http::Response;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HEAD_TIMEOUT: Duration = Duration::from_millis(400);
const IDLE_TIMEOUT: Duration = Duration::from_millis(1200);
/// A hang guard only: the server closes long before this unless its deadline never fires.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn server() -> common::Running {
    let mut config = Config::server();
    config.handshake_timeout = HEAD_TIMEOUT;
    config.idle_timeout = Some(IDLE_TIMEOUT);
    let server = Server::bind("127.0.0.1:0").expect("bind").config(config);
    common::start(server, |_| Response::new(Body::from("hello")))
}

/// Reads until `done(bytes so far)` or EOF; returns the bytes and whether EOF came. Fails if
/// the server neither sends nor closes within [`HANG_GUARD`].
fn read_until(s: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(HANG_GUARD)).expect("timeout");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !done(&got) {
        match s.read(&mut chunk) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
                "the server neither answered nor closed within the hang guard {HANG_GUARD:?}; \
                 got {:?}",
                String::from_utf8_lossy(&got)
            ),
            Err(e) => panic!("read: {e}; got {:?}", String::from_utf8_lossy(&got)),
        }
    }
    (got, false)
}

#[test]
fn half_a_request_head_gets_408_and_the_close_within_the_head_timeout() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n")
        .expect("write");
    // Another client is served while this head hangs: the deadline is per connection.
    let mut other = TcpStream::connect(running.addr).expect("connect");
    other
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .expect("write");
    let (got, eof) = read_until(&mut other, |_| false);
    assert!(eof && got.starts_with(b"HTTP/1.1 200") && got.ends_with(b"hello"));
    let (got, eof) = read_until(&mut s, |_| false);
    assert!(eof);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    let (got, eof) = read_until(&mut s, |b| b.ends_with(b"hello"));
    assert!(!eof && got.starts_with(b"HTTP/1.1 200"));
    // Between requests: closed silently (no 408, which is for a begun head).
    let (got, eof) = read_until(&mut s, |_| false);
    assert!(eof && got.is_empty(), "closed silently: {got:?}");
}

#[test]
fn a_client_that_says_nothing_is_dropped_at_the_handshake_deadline() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    // Nothing said, so no protocol to answer in: closed silently.
    let (got, eof) = read_until(&mut s, |_| false);
    assert!(eof && got.is_empty(), "closed silently: {got:?}");
}
