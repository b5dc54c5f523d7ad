//! `Drive`, the connection as every adapter drives it, without sockets: a client and a server
//! exchange their transports' bytes by hand, in virtual time.

// A test picks its starting instant; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use bytes::BytesMut;
use h2_http::body::{Blocking, Body};
use h2_http::drive::{Command, Drive, Input};
use h2_http::pool::Seat;
use h2_http::reply;
use h2_http::session::Session;
use h2_http::{Deadline, RequestOptions};
use h2core::shell::pool::Slots;
use h2core::shell::Transport;
use h2core::{Config, Connection, Reason};
use std::io::IoSlice;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

/// One side: its drive, its write queue and the bytes it has received.
struct Side {
    drive: Drive<Blocking>,
    transport: Transport,
    read_buf: BytesMut,
}

impl Side {
    fn new(conn: Connection) -> Side {
        let session = Session::new(conn, Arc::new(|_, _| {}));
        Side {
            drive: Drive::new(session, false),
            transport: Transport::new(),
            read_buf: BytesMut::new(),
        }
    }

    /// One round: feed what arrived, collect the inputs, take the core's output.
    fn round(&mut self, now: Instant) -> Vec<Input<Blocking>> {
        self.drive.received(&mut self.read_buf, now);
        let mut inputs = Vec::new();
        self.drive.poll(&mut self.transport, now, |input| {
            inputs.push(input);
            None
        });
        let mut cx = Context::from_waker(Waker::noop());
        self.drive.flush(&mut cx, &mut self.transport, now);
        inputs
    }

    /// Hands everything queued to `peer`, as a socket would.
    fn send_to(&mut self, peer: &mut Side) {
        let mut slices = [IoSlice::new(&[]); 64];
        let n = self.transport.io_slices(&mut slices);
        let bytes: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
        peer.read_buf.extend_from_slice(&bytes);
        self.transport.advance(bytes.len());
    }
}

/// Rounds until neither side has anything to say; the server's inputs, in order.
fn settle(client: &mut Side, server: &mut Side, now: Instant) -> Vec<Input<Blocking>> {
    let mut inputs = Vec::new();
    for _ in 0..8 {
        client.round(now);
        client.send_to(server);
        inputs.extend(server.round(now));
        server.send_to(client);
    }
    inputs
}

fn get(path: &str) -> Vec<h2core::Header> {
    let req = http::Request::get(format!("http://example.com{path}"))
        .header("grpc-timeout", "1S")
        .body(())
        .unwrap();
    h2_http::request_to_h2(&req, "http")
}

#[test]
fn a_request_reaches_the_server_with_its_deadline_and_a_reset_follows() {
    let t0 = Instant::now();
    let mut client = Side::new(Connection::new(Config::client(), t0));
    let mut server = Side::new(Connection::new(Config::server(), t0));
    let slots = Arc::new(Slots::new());
    let header_bytes = Arc::new(AtomicU64::new(0));
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let wake = Arc::new(move || {
        w.fetch_add(1, Ordering::Relaxed);
    });
    client
        .drive
        .seat(Seat::new(slots.clone(), header_bytes.clone(), wake));

    settle(&mut client, &mut server, t0);
    assert!(
        slots.is_ready(),
        "the server's SETTINGS make the seat ready"
    );
    assert!(wakes.load(Ordering::Relaxed) > 0, "and wake who waits");

    // A request on a reserved slot: the slot is given back once the stream is open.
    assert!(slots.try_reserve());
    let (tx, pending) = reply::channel::<Blocking>(None);
    let options = RequestOptions::default();
    let body = Body::<Blocking>::empty();
    let request = Command::Request {
        head: get("/a"),
        body,
        reply: tx,
        options,
        reserved: true,
    };
    client.drive.command(request, t0);
    let now = t0 + Duration::from_millis(5);
    let inputs = settle(&mut client, &mut server, now);
    let [Input::Request(stream, request)] = &inputs[..] else {
        let kinds: Vec<&str> = inputs
            .iter()
            .map(|i| match i {
                Input::Request(..) => "request",
                Input::Reset(..) => "reset",
                Input::Closed => "closed",
            })
            .collect();
        panic!("one request expected, got {kinds:?}");
    };
    assert_eq!(request.uri().path(), "/a");
    let deadline = request.extensions().get::<Deadline>();
    assert_eq!(deadline, Some(&Deadline(now + Duration::from_secs(1))));
    assert!(
        header_bytes.load(Ordering::Relaxed) > 0,
        "header bytes counted"
    );

    // The client resets it: the server learns the stream is gone (its handler's work is moot).
    client.drive.conn().reset(*stream, Reason::CANCEL).unwrap();
    let inputs = settle(&mut client, &mut server, now);
    assert!(matches!(inputs[..], [Input::Reset(s)] if s == *stream));
    drop(pending);

    // A connection that ends takes no more requests; the waiters are told.
    let before = wakes.load(Ordering::Relaxed);
    drop(client);
    assert!(slots.is_closing());
    assert!(wakes.load(Ordering::Relaxed) > before);
}

#[test]
fn bytes_read_before_the_drive_existed_are_fed_first_and_once() {
    let t0 = Instant::now();
    let mut client = Side::new(Connection::new(Config::client(), t0));
    client.round(t0);
    let mut server = Side::new(Connection::new(Config::server(), t0));
    client.send_to(&mut server);
    // The server's drive starts with the client's preface already read (as after sniffing).
    let session = Session::new(Connection::new(Config::server(), t0), Arc::new(|_, _| {}));
    server.drive = Drive::new(session, true);
    assert!(!server.drive.wants_read(false, &server.transport));
    assert!(server.drive.feed_unparsed(&mut server.read_buf, t0));
    assert!(server.read_buf.is_empty());
    assert!(!server.drive.feed_unparsed(&mut server.read_buf, t0));
    assert!(server.drive.wants_read(false, &server.transport));
    assert!(
        !server.drive.wants_read(true, &server.transport),
        "EOF seen"
    );
}
