//! `Connection::stats`: the counters a client and a server keep agree with each other and with
//! what crossed the wire (bytes, resets, refusals, GOAWAYs), and the windows are the current
//! ones (RFC 9113 §6.4, §6.8, §6.9).

// A test picks its starting instant; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Event, Header, Reason};
use std::time::Instant;

fn h(n: &str, v: &str) -> Header {
    Header::new(
        Bytes::copy_from_slice(n.as_bytes()),
        Bytes::copy_from_slice(v.as_bytes()),
    )
}

fn get(path: &str) -> Vec<Header> {
    vec![
        h(":method", "GET"),
        h(":scheme", "http"),
        h(":authority", "example"),
        h(":path", path),
    ]
}

/// Hands `from`'s output to `to`; true if there was any.
fn transfer(from: &mut Connection, to: &mut Connection, now: Instant) -> bool {
    let mut out = Vec::new();
    if from.poll_transmit(now, &mut out) == 0 {
        return false;
    }
    let mut buf = BytesMut::new();
    out.iter().for_each(|c| buf.extend_from_slice(c));
    let _ = to.handle_input(now, &mut buf);
    true
}

/// Moves bytes both ways until neither side has more to say; returns the events of each.
fn pump(a: &mut Connection, b: &mut Connection, now: Instant) -> (Vec<Event>, Vec<Event>) {
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let moved = transfer(a, b, now) | transfer(b, a, now);
        ea.extend(std::iter::from_fn(|| a.poll_event()));
        eb.extend(std::iter::from_fn(|| b.poll_event()));
        if !moved {
            return (ea, eb);
        }
    }
    panic!("the connections never went quiet");
}

#[test]
fn both_sides_count_what_crossed_the_wire() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let mut server = Connection::new(Config::server(), now);
    pump(&mut client, &mut server, now);

    // One request answered with 1000 bytes, one cancelled by the client, one refused by the
    // server's GOAWAY.
    let first = client.send_request(get("/a"), true).unwrap();
    let (_, ev) = pump(&mut client, &mut server, now);
    assert!(matches!(ev[0], Event::RequestReceived { stream, .. } if stream == first));
    server
        .send_response(first, vec![h(":status", "200")], false)
        .unwrap();
    server
        .send_data(first, Bytes::from(vec![7u8; 1000]), true)
        .unwrap();
    pump(&mut client, &mut server, now);

    let second = client.send_request(get("/b"), false).unwrap();
    pump(&mut client, &mut server, now);
    client.reset(second, Reason::CANCEL).unwrap();
    pump(&mut client, &mut server, now);

    // /c crosses the server's GOAWAY: above its last-stream-id, it was not processed (§6.8).
    server.go_away(Reason::NO_ERROR, Bytes::new(), now).unwrap();
    let third = client.send_request(get("/c"), true).unwrap();
    let (ev, _) = pump(&mut client, &mut server, now);
    assert!(ev.iter().any(|e| matches!(e,
        Event::StreamReset { stream, reason: Reason::REFUSED_STREAM, remote: true } if *stream == third
    )));

    let (c, s) = (client.stats(), server.stats());
    assert_eq!(c.bytes_sent, s.bytes_received, "client → server bytes");
    assert_eq!(s.bytes_sent, c.bytes_received, "server → client bytes");
    assert_eq!(c.data_received, 1000);
    assert_eq!(s.data_sent, 1000);
    assert_eq!(c.resets_sent, 1, "the CANCEL");
    assert_eq!(s.resets_received, 1);
    assert_eq!(s.goaways_sent, 1);
    assert_eq!(c.goaways_received, 1);
    assert_eq!(c.streams_refused, 1, "/c");
    assert_eq!(s.streams_opened, 2, "the server processed /a and /b only");

    // Windows, with nothing in flight: what the server may send is what the client allows,
    // 1000 bytes short of the window the client opened (nothing was released).
    assert_eq!(s.send_window, c.recv_window);
    assert_eq!(
        c.recv_window,
        i64::from(Config::client().connection_window.max(65_535)) - 1000
    );
}

#[test]
fn a_stream_refused_by_rst_stream_is_counted_as_refused() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let mut server = Connection::new(Config::server(), now);
    pump(&mut client, &mut server, now);
    let id = client.send_request(get("/"), true).unwrap();
    pump(&mut client, &mut server, now);
    server.reset(id, Reason::REFUSED_STREAM).unwrap();
    pump(&mut client, &mut server, now);
    assert_eq!(client.stats().streams_refused, 1);
    assert_eq!(client.stats().resets_received, 1);
    assert_eq!(server.stats().resets_sent, 1);
    assert_eq!(
        server.stats().streams_refused,
        0,
        "refusals count where they are received"
    );
}
