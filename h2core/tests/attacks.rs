//! Attack limits with their default values, where the scenario corpus cannot reach: the
//! transport's behaviour (a peer that reads or not), memory counts, the HPACK table. The
//! scenarios (h2-testkit `corpus/attacks.rs`) check what the peer sees.

// A test picks its starting instant; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use bytes::{BufMut, Bytes, BytesMut};
use h2core::hpack::Decoder;
use h2core::{Config, Connection, Event, Header, Limits, Reason, StreamId};
use std::time::{Duration, Instant};

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(9 + payload.len());
    b.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    b.push(kind);
    b.push(flags);
    b.extend_from_slice(&stream.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in pairs {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(0x4, 0, 0, &p)
}

/// A GET from the static table only (no HPACK state): `:method GET`, `:scheme http`,
/// `:path /`, `:authority localhost`.
fn get_block() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 0x09];
    b.extend_from_slice(b"localhost");
    b
}

fn get(stream: u32) -> Vec<u8> {
    frame(0x1, 0x5, stream, &get_block())
}

/// A server past the handshake (prefaces, SETTINGS both ways, ACKs), with `config`.
fn server(config: Config, now: Instant, peer_settings: &[(u16, u32)]) -> Connection {
    let mut c = Connection::new(config, now);
    let mut input = BytesMut::new();
    input.extend_from_slice(h2core::preface::PREFACE);
    input.extend_from_slice(&settings(peer_settings));
    input.extend_from_slice(&frame(0x4, 0x1, 0, &[]));
    c.handle_input(now, &mut input).expect("handshake");
    drain(&mut c, now);
    c
}

/// Everything `poll_transmit` has, as a well-behaved adapter whose peer reads would take it.
fn drain(c: &mut Connection, now: Instant) -> Vec<u8> {
    let mut sent = Vec::new();
    loop {
        let mut out = Vec::new();
        if c.poll_transmit(now, &mut out) == 0 {
            return sent;
        }
        for b in out {
            sent.extend_from_slice(&b);
        }
    }
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn terminated(c: &mut Connection) -> Option<Reason> {
    events(c).into_iter().find_map(|e| match e {
        Event::ConnectionTerminated { reason, .. } => Some(reason),
        _ => None,
    })
}

#[test]
fn ping_flood_from_a_peer_that_does_not_read_is_enhance_your_calm_at_the_default_limit() {
    let now = Instant::now();
    let mut c = server(Config::server(), now, &[]);
    let limit = Limits::default().max_pending_control_frames;
    let mut input = BytesMut::new();
    for _ in 0..limit {
        input.extend_from_slice(&frame(0x6, 0, 0, b"flooding"));
    }
    assert!(c.handle_input(now, &mut input).is_ok());
    input.extend_from_slice(&frame(0x6, 0, 0, b"flooding"));
    let err = c.handle_input(now, &mut input).unwrap_err();
    assert_eq!(err.reason, Reason::ENHANCE_YOUR_CALM);
    assert_eq!(terminated(&mut c), Some(Reason::ENHANCE_YOUR_CALM));
}

#[test]
fn ping_flood_from_a_peer_that_reads_is_answered_without_limit() {
    // nghttp2, Go and hyperium only count replies not yet written: a peer that reads its
    // PING ACKs costs us no memory, only the CPU it pays for itself.
    let now = Instant::now();
    let mut c = server(Config::server(), now, &[]);
    let mut acks = 0;
    for _ in 0..100 {
        let mut input = BytesMut::new();
        for _ in 0..500 {
            input.extend_from_slice(&frame(0x6, 0, 0, b"pingping"));
        }
        c.handle_input(now, &mut input).expect("no flood");
        acks += drain(&mut c, now).len() / 17;
    }
    assert_eq!(acks, 50_000);
    assert!(c.wants_read());
}

#[test]
fn replies_in_the_batch_being_written_still_count_as_unwritten() {
    let now = Instant::now();
    let mut c = server(Config::server(), now, &[]);
    let limit = Limits::default().max_pending_control_frames;
    let mut input = BytesMut::new();
    for _ in 0..limit {
        input.extend_from_slice(&frame(0x6, 0, 0, b"flooding"));
    }
    c.handle_input(now, &mut input).unwrap();
    // The adapter takes the batch but cannot write it (the peer does not read): it does not
    // come back to poll_transmit, and the next PING is one too many.
    let mut held = Vec::new();
    assert!(c.poll_transmit(now, &mut held) > 0);
    input.extend_from_slice(&frame(0x6, 0, 0, b"flooding"));
    assert_eq!(
        c.handle_input(now, &mut input).unwrap_err().reason,
        Reason::ENHANCE_YOUR_CALM
    );
}

#[test]
fn wants_read_is_false_while_queued_output_exceeds_max_queued_output() {
    let now = Instant::now();
    let mut cfg = Config::server();
    cfg.limits.max_queued_output = 4096;
    let mut c = server(cfg, now, &[]);
    let mut input = BytesMut::new();
    for _ in 0..300 {
        input.extend_from_slice(&frame(0x6, 0, 0, b"pingping"));
    }
    c.handle_input(now, &mut input).unwrap();
    assert!(c.queued_output() > 4096);
    assert!(!c.wants_read(), "stop reading until our output is written");
    drain(&mut c, now);
    assert_eq!(c.queued_output(), 0);
    assert!(c.wants_read());
}

#[test]
fn send_capacity_never_exceeds_max_send_buffer_whatever_the_window() {
    // CVE-2019-9517: the peer announces the largest windows, the application follows
    // send_capacity: no more than max_send_buffer is ever queued per stream.
    let now = Instant::now();
    let mut c = server(Config::server(), now, &[(0x4, 0x7fff_ffff)]);
    let mut input = BytesMut::from(&frame(0x8, 0, 0, &(0x7fff_ffffu32 - 65_535).to_be_bytes())[..]);
    input.extend_from_slice(&get(1));
    c.handle_input(now, &mut input).unwrap();
    let id = StreamId::new(1);
    c.send_response(
        id,
        vec![Header::new(
            Bytes::from_static(b":status"),
            Bytes::from_static(b"200"),
        )],
        false,
    )
    .unwrap();
    let max = Limits::default().max_send_buffer;
    assert_eq!(c.send_capacity(id), max);
    while c.send_capacity(id) > 0 {
        let n = c.send_capacity(id).min(64 * 1024);
        c.send_data(id, Bytes::from(vec![0u8; n]), false).unwrap();
    }
    assert_eq!(c.send_buffered(id), max);
}

#[test]
fn refused_streams_do_not_accumulate() {
    // Streams refused at MAX_CONCURRENT_STREAMS are remembered as reset, among the closed
    // streams whose number is bounded.
    let now = Instant::now();
    let cfg = Config::server();
    let remember = cfg.limits.max_closed_streams_remembered;
    let mut c = server(cfg, now, &[]);
    let mut input = BytesMut::new();
    for i in 0..100u32 {
        input.extend_from_slice(&frame(0x1, 0x4, 1 + 2 * i, &get_block()));
    }
    c.handle_input(now, &mut input).unwrap();
    let mut t = now;
    let mut id = 201u32;
    for _ in 0..30 {
        t += Duration::from_secs(1);
        for _ in 0..150 {
            input.extend_from_slice(&get(id));
            id += 2;
        }
        c.handle_input(t, &mut input)
            .expect("within the reset rate");
        drain(&mut c, t);
    }
    assert_eq!(c.active_streams(), (0, 100));
    assert!(
        c.tracked_streams() <= 100 + remember,
        "{} streams tracked",
        c.tracked_streams()
    );
}

#[test]
fn zero_length_headers_are_charged_32_octets_each_in_the_hpack_table() {
    // CVE-2019-9516: empty names and values must not make table entries free.
    let mut d = Decoder::new(4096);
    let block = Bytes::from([0x40u8, 0x00, 0x00].repeat(10_000));
    let mut fields = 0;
    let _ = d.decode(&block, |_| fields += 1);
    let (entries, size) = d.dynamic_table();
    assert_eq!(fields, 10_000);
    assert_eq!(entries.len(), 4096 / 32);
    assert!(size <= 4096);
}

#[test]
fn hpack_bomb_does_not_collect_the_inflated_list() {
    // One 4 KiB entry referenced 100,000 times: the list stops at the limit and only a few
    // fields are ever collected, however large the list would be.
    let mut d = Decoder::new(4096);
    d.set_max_header_list_size(64 * 1024);
    let mut block = vec![0x40, 0x01, b'x', 0x7f, 0xa1, 0x1e];
    block.extend_from_slice(&[b'a'; 4000]);
    block.extend(std::iter::repeat_n(0xbe, 100_000));
    let mut fields = 0;
    let r = d.decode(&Bytes::from(block), |_| fields += 1);
    assert!(r.is_err());
    assert!(fields <= 64 * 1024 / 4000 + 1, "{fields} fields collected");
}

#[test]
fn promises_beyond_max_reserved_streams_are_refused() {
    let now = Instant::now();
    let mut c = Connection::new(Config::client(), now);
    let mut input = BytesMut::from(&settings(&[])[..]);
    input.extend_from_slice(&frame(0x4, 0x1, 0, &[]));
    c.handle_input(now, &mut input).unwrap();
    let req = vec![
        Header::new(Bytes::from_static(b":method"), Bytes::from_static(b"GET")),
        Header::new(Bytes::from_static(b":scheme"), Bytes::from_static(b"http")),
        Header::new(
            Bytes::from_static(b":authority"),
            Bytes::from_static(b"localhost"),
        ),
        Header::new(Bytes::from_static(b":path"), Bytes::from_static(b"/")),
    ];
    let parent = c.send_request(req, true).unwrap();
    drain(&mut c, now);
    let max = Limits::default().max_reserved_streams as u32;
    for i in 0..max + 1 {
        let mut p = BytesMut::new();
        p.put_u32(2 + 2 * i);
        p.extend_from_slice(&get_block());
        input.extend_from_slice(&frame(0x5, 0x4, parent.value(), &p));
    }
    c.handle_input(now, &mut input).unwrap();
    let pushed = events(&mut c)
        .into_iter()
        .filter(|e| matches!(e, Event::PushedStreamReceived { .. }))
        .count();
    assert_eq!(pushed, max as usize);
    let sent = drain(&mut c, now);
    // RST_STREAM(2 + 2 * max, REFUSED_STREAM).
    let mut rst = frame(0x3, 0, 2 + 2 * max, &7u32.to_be_bytes());
    rst.truncate(13);
    assert!(
        sent.windows(13).any(|w| w == rst),
        "refused with RST_STREAM"
    );
}

fn get_request() -> Vec<Header> {
    [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "a"),
        (":path", "/"),
    ]
    .iter()
    .map(|(n, v)| Header::new(Bytes::from_static(n.as_bytes()), Bytes::from(*v)))
    .collect()
}

#[test]
fn client_stream_identifiers_run_out_at_2_31_minus_1() {
    // §5.1.1: identifiers cannot be reused; once the space is used up the client must open a
    // new connection. Nothing goes on the wire for the refused request.
    let mut config = Config::client();
    config.initial_stream_id = Some(0x7fff_fffd);
    let mut c = Connection::new(config, Instant::now());
    assert_eq!(
        c.send_request(get_request(), true).unwrap().value(),
        0x7fff_fffd
    );
    assert_eq!(
        c.send_request(get_request(), true).unwrap().value(),
        0x7fff_ffff
    );
    assert!(!c.can_open_stream());
    let before = c.queued_output();
    assert_eq!(
        c.send_request(get_request(), true),
        Err(h2core::UserError::StreamsExhausted)
    );
    assert_eq!(c.queued_output(), before);
}

#[test]
fn initial_stream_id_of_the_wrong_parity_is_ignored() {
    let mut config = Config::client();
    config.initial_stream_id = Some(4);
    let mut c = Connection::new(config, Instant::now());
    assert_eq!(c.send_request(get_request(), true).unwrap().value(), 1);
}
