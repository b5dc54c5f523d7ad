//! HTTP/1.1 connections have deadlines (the shell's `Http1Timer`, RFC 9112 §9.5): a client
//! trickling a request head (slowloris) gets `408 Request Timeout` and the close within
//! `Config::handshake_timeout`; a keep-alive connection that idles is closed after
//! `Config::idle_timeout`; a client that connects and says nothing is dropped at the
//! handshake deadline. Timeouts are shortened through `Server::config`.

mod common;

use h2_mio::{Body, Server};
use h2core::Config;
use http::Response;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const HEAD_TIMEOUT: Duration = Duration::from_millis(400);
const IDLE_TIMEOUT: Duration = Duration::from_millis(1200);
/// Slack for a loaded machine.
const SLACK: Duration = Duration::from_secs(3);

fn server() -> common::Running {
    let mut config = Config::server();
    config.handshake_timeout = HEAD_TIMEOUT;
    config.idle_timeout = Some(IDLE_TIMEOUT);
    let server = Server::bind("127.0.0.1:0").expect("bind").config(config);
    common::start(server, |_| Response::new(Body::from("hello")))
}

/// Reads until `done(bytes so far)` or EOF; returns the bytes and whether EOF came.
fn read_until(s: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(HEAD_TIMEOUT + IDLE_TIMEOUT + SLACK))
        .expect("timeout");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !done(&got) {
        match s.read(&mut chunk) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
            Err(e) => panic!("read: {e}; got {:?}", String::from_utf8_lossy(&got)),
        }
    }
    (got, false)
}

#[test]
fn half_a_request_head_gets_408_and_the_close_within_the_head_timeout() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    let started = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n")
        .expect("write");
    let (got, eof) = read_until(&mut s, |_| false);
    let took = started.elapsed();
    assert!(eof);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        took >= HEAD_TIMEOUT && took < HEAD_TIMEOUT + SLACK,
        "{took:?}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    let (got, eof) = read_until(&mut s, |b| b.ends_with(b"hello"));
    assert!(!eof && got.starts_with(b"HTTP/1.1 200"));
    let idle_from = Instant::now();
    let (got, eof) = read_until(&mut s, |_| false);
    let took = idle_from.elapsed();
    assert!(eof && got.is_empty(), "closed silently: {got:?}");
    assert!(
        took >= IDLE_TIMEOUT - Duration::from_millis(100) && took < IDLE_TIMEOUT + SLACK,
        "{took:?}"
    );
}

#[test]
fn a_client_that_says_nothing_is_dropped_at_the_handshake_deadline() {
    let running = server();
    let mut s = TcpStream::connect(running.addr).expect("connect");
    let started = Instant::now();
    let (got, eof) = read_until(&mut s, |_| false);
    assert!(eof && got.is_empty());
    assert!(started.elapsed() < HEAD_TIMEOUT + SLACK);
}
