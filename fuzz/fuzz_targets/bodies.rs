//! The fuzz targets' bodies, one function per target, shared by the cargo-fuzz binaries
//! (`fuzz/fuzz_targets/*.rs`) and the replay test (`h2core/tests/fuzz_regressions.rs`, through
//! `#[path]`), so a saved input replays exactly as the fuzzer ran it. Each body panics when a
//! property fails: no-panic alone would let a wrong answer pass.
//!
//! Needs only `h2core` and `bytes`, which both crates have.

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Event, Header, Role};
use std::time::{Duration, Instant};

/// A target's body: panics when the input breaks a property.
pub type Body = fn(&[u8]);

/// Every target, with the directory its inputs live under (`fuzz/seeds/NAME`,
/// `fuzz/regressions/NAME`) and its body.
pub const TARGETS: [(&str, Body); 5] = [
    ("connection_server", connection_server),
    ("connection_client", connection_client),
    ("frame_reader", frame_reader),
    ("hpack_decoder", hpack_decoder),
    ("http1_server", http1_server),
];

pub fn connection_server(data: &[u8]) {
    connection(Role::Server, data);
}

pub fn connection_client(data: &[u8]) {
    connection(Role::Client, data);
}

fn h(n: &'static str, v: &'static str) -> Header {
    Header::new(
        Bytes::from_static(n.as_bytes()),
        Bytes::from_static(v.as_bytes()),
    )
}

/// What a run of the connection showed the application and the peer, in order.
#[derive(Debug, PartialEq)]
enum Seen {
    InputError(String),
    Event(String),
    Output(Vec<u8>),
}

/// How a round's bytes reach `handle_input`.
#[derive(Clone, Copy, Debug)]
enum Feed {
    Whole,
    Chunks(usize),
}

/// The connection (RFC 9113) in `role` on any bytes: never a panic, memory bounded, and the
/// same events and the same bytes out whether each round of input arrives whole, byte by byte
/// or in odd-sized chunks (a connection must not care how TCP cut its input).
///
/// The first byte is the mode: bit 0 starts past the preface (most inputs then reach the frame
/// handlers), bits 1-3 the round length (8 << n bytes), bit 4 a passive application (it
/// neither answers nor takes the output until the end: a peer flooding one that does not
/// read), bits 5-7 the odd chunk size. The application acts (answers requests, releases
/// received bytes, takes the output) and time moves (700 ms when a round starts with 0) only
/// between rounds, so every way of feeding a round sees the same world.
pub fn connection(role: Role, data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let odd = 2 + (mode as usize >> 5) * 2 + 1;
    let whole = run_connection(role, mode, data, Feed::Whole);
    for feed in [Feed::Chunks(1), Feed::Chunks(odd)] {
        let split = run_connection(role, mode, data, feed);
        if whole != split {
            let at = whole.iter().zip(&split).take_while(|(a, b)| a == b).count();
            panic!(
                "{role:?}: fed {feed:?}, the run differs from whole rounds at step {at}:\n\
                 whole: {:?}\nsplit: {:?}",
                whole.get(at),
                split.get(at)
            );
        }
    }
}

fn run_connection(role: Role, mode: u8, data: &[u8], feed: Feed) -> Vec<Seen> {
    // The core only receives time as an argument; any starting instant will do.
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let config = Config::new(role);
    let limits = config.limits.clone();
    let mut c = Connection::new(config, now);
    let mut seen = Vec::new();
    let mut prelude = Vec::new();
    if mode & 1 == 1 {
        if role == Role::Server {
            prelude.extend_from_slice(h2core::preface::PREFACE);
        }
        prelude.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    }
    if role == Role::Client {
        for path in ["/", "/a"] {
            let req = vec![
                h(":method", "GET"),
                h(":scheme", "https"),
                h(":authority", "a"),
                h(":path", path),
            ];
            let _ = c.send_request(req, path == "/");
        }
    }
    let active = mode & 0x10 == 0;
    let round_len = 8 << ((mode >> 1) & 7);
    let stream: Vec<u8> = [&prelude[..], data].concat();
    let mut input = BytesMut::new();
    for round in stream.chunks(round_len) {
        let pieces: Vec<&[u8]> = match feed {
            Feed::Whole => vec![round],
            Feed::Chunks(n) => round.chunks(n).collect(),
        };
        for piece in pieces {
            input.extend_from_slice(piece);
            if let Err(e) = c.handle_input(now, &mut input) {
                seen.push(Seen::InputError(format!("{e:?}")));
            }
            check_bounds(&c, &limits, stream.len());
        }
        while let Some(e) = c.poll_event() {
            seen.push(Seen::Event(format!("{e:?}")));
            if !active {
                continue;
            }
            // The application answers what it can, so the send side runs too.
            match e {
                Event::RequestReceived { stream, .. } => {
                    let _ = c.send_response(stream, vec![h(":status", "200")], false);
                    let _ = c.send_data(stream, Bytes::from_static(b"hello"), true);
                }
                Event::DataReceived {
                    stream,
                    flow_controlled_len,
                    ..
                } => c.release_capacity(stream, flow_controlled_len as usize),
                _ => {}
            }
        }
        if active {
            seen.push(Seen::Output(transmit(&mut c, now)));
        }
        check_bounds(&c, &limits, stream.len());
        if round.first() == Some(&0) {
            now += Duration::from_millis(700);
            c.handle_timeout(now);
        }
    }
    // A passive application takes its output now; after EOF there is no one to write to.
    seen.push(Seen::Output(transmit(&mut c, now)));
    c.handle_eof(now);
    while let Some(e) = c.poll_event() {
        seen.push(Seen::Event(format!("{e:?}")));
    }
    seen.push(Seen::Output(transmit(&mut c, now)));
    seen
}

fn transmit(c: &mut Connection, now: Instant) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut out = Vec::new();
    while c.poll_transmit(now, &mut out) > 0 {
        for b in out.drain(..) {
            bytes.extend_from_slice(&b);
        }
    }
    bytes
}

/// Streams and queued bytes stay within the configured limits whatever the peer sends.
fn check_bounds(c: &Connection, limits: &h2core::Limits, input_len: usize) {
    let (local, remote) = c.active_streams();
    assert!(
        remote <= 100 && local <= 2,
        "active streams {local}/{remote}"
    );
    assert!(
        c.tracked_streams()
            <= 2 + 100 + limits.max_reserved_streams + limits.max_closed_streams_remembered,
        "tracked streams {}",
        c.tracked_streams()
    );
    assert!(
        c.queued_output() <= 2 * input_len + 4096,
        "queued output {} for {input_len} bytes in",
        c.queued_output()
    );
}

/// The frame reader (RFC 9113 §4, §6) on any bytes: never a panic, and the same frames and
/// errors whether the input arrives whole, split at an input-chosen point, or byte by byte.
/// The first byte picks the maximum frame size (bit 0) and the split point.
pub fn frame_reader(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max = if first & 1 == 0 { 16_384 } else { 1 << 20 };
    let at = (first as usize * 7) % (rest.len() + 1);
    let whole = frames(&[rest], max);
    let split = frames(&[&rest[..at], &rest[at..]], max);
    assert_eq!(whole, split, "split at {at}");
    let bytes: Vec<&[u8]> = rest.chunks(1).collect();
    assert_eq!(whole, frames(&bytes, max), "byte by byte");
}

fn frames(chunks: &[&[u8]], max_frame_size: u32) -> Vec<String> {
    use h2core::frame::FrameReader;
    let mut reader = FrameReader::new();
    reader.set_max_frame_size(max_frame_size);
    let mut buf = BytesMut::new();
    let mut seen = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match reader.read(&mut buf) {
                Ok(Some(f)) => seen.push(format!("{f:?}")),
                Ok(None) => break,
                // A connection error ends the connection (an oversized frame is not even
                // consumed); any other rejected frame was consumed and reading goes on.
                Err(e) => {
                    seen.push(format!("error {:?}", e.error));
                    if matches!(e.error, h2core::ProtocolError::Connection(_)) {
                        return seen;
                    }
                }
            }
        }
    }
    seen
}

/// The HPACK decoder (RFC 7541) on header blocks (split on 0xfe, as one connection sees them in
/// a row): never a panic, the table within its limit, the header list never collected beyond
/// the limit, and every block it accepts means the same fields once re-encoded by our encoder
/// and decoded afresh. The first byte picks the table size (bits 0-1), an unbounded list
/// (bit 2) and going on after an error (bit 3).
pub fn hpack_decoder(data: &[u8]) {
    use h2core::hpack::{Decoder, Encoder};
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let table = [0usize, 64, 4096, 65_536][first as usize & 3];
    let list = if first & 4 == 0 {
        16 * 1024
    } else {
        usize::MAX
    };
    let mut d = Decoder::new(table);
    d.set_max_header_list_size(list);
    let mut encoder = Encoder::new();
    let mut check = Decoder::new(4096);
    check.set_max_header_list_size(usize::MAX);
    for block in rest.split(|&b| b == 0xfe) {
        let mut size = 0usize;
        let mut fields = Vec::new();
        let r = d.decode(&Bytes::copy_from_slice(block), |h| {
            size += h.name.len() + h.value.len() + 32;
            fields.push((h.name.clone(), h.value.clone()));
        });
        if list != usize::MAX {
            assert!(size <= list, "collected a list of {size}");
        }
        let (_, table_size) = d.dynamic_table();
        assert!(table_size <= table, "table of {table_size} over {table}");
        if r.is_err() {
            if first & 8 == 0 {
                break;
            }
            continue;
        }
        let headers: Vec<Header> = fields
            .iter()
            .map(|(n, v)| Header::new(n.clone(), v.clone()))
            .collect();
        let mut again = BytesMut::new();
        encoder.encode(&headers, &mut again);
        let mut decoded = Vec::new();
        check
            .decode(&again.freeze(), |h| decoded.push((h.name, h.value)))
            .expect("our own encoding decodes");
        assert_eq!(fields, decoded, "re-encoded block means other fields");
    }
}

/// The HTTP/1.1 server codec (RFC 9112) on any bytes: never a panic, never a loop without
/// progress, and the same requests, body octets, errors and bytes out whether the input arrives
/// whole, byte by byte or in odd-sized pieces (a server must not care how TCP cut its input).
///
/// The first byte is the mode: bit 0 tight limits, bit 1 an application that answers each
/// request at once without reading its body (the codec drains it), else one that reads the
/// body (asking for `100 Continue` when the client waits for it) and answers at its end, bit 2
/// a response of known length (else chunked or close-delimited), bits 3-7 the odd piece size.
/// The application acts only on what the codec reports, so every way of feeding sees the same
/// exchanges; body octets are compared as one run between other events, since how a body is
/// sliced into `Data` events follows the pieces.
pub fn http1_server(data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let odd = 2 + (mode as usize >> 3);
    let whole = run_http1_server(mode, data, Feed::Whole);
    for feed in [Feed::Chunks(1), Feed::Chunks(odd)] {
        let split = run_http1_server(mode, data, feed);
        if whole != split {
            let at = whole.iter().zip(&split).take_while(|(a, b)| a == b).count();
            panic!(
                "fed {feed:?}, the run differs from the whole input at step {at}:\n\
                 whole: {:?}\nsplit: {:?}",
                whole.get(at),
                split.get(at)
            );
        }
    }
}

/// What a run of the HTTP/1.1 server codec showed the application and the client, in order.
#[derive(Debug, PartialEq)]
enum Http1Seen {
    /// A request head, with its HTTP/2 field list and its h2c upgrade (or their errors).
    Request(String),
    /// Body octets since the last other event, however they were sliced.
    Data(Vec<u8>),
    /// Any other body event, an error, the connection closing.
    Other(String),
    /// Bytes written to the client since the last other event.
    Output(Vec<u8>),
}

#[derive(Default)]
struct Http1Run {
    seen: Vec<Http1Seen>,
    /// Reading the current request's body, to answer at its end.
    in_body: bool,
}

impl Http1Run {
    fn data(&mut self, bytes: &[u8]) {
        if let Some(Http1Seen::Data(d)) = self.seen.last_mut() {
            d.extend_from_slice(bytes);
        } else {
            self.seen.push(Http1Seen::Data(bytes.to_vec()));
        }
    }

    fn output(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Http1Seen::Output(o)) = self.seen.last_mut() {
            o.extend_from_slice(bytes);
        } else {
            self.seen.push(Http1Seen::Output(bytes.to_vec()));
        }
    }

    fn other(&mut self, what: String) {
        self.seen.push(Http1Seen::Other(what));
    }
}

fn run_http1_server(mode: u8, data: &[u8], feed: Feed) -> Vec<Http1Seen> {
    use h2core::http1::{Limits, ServerConn};
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_head_size: 256,
            max_headers: 8,
        }
    };
    let mut c = ServerConn::new(limits);
    let mut run = Http1Run::default();
    let mut buf = BytesMut::new();
    let pieces: Vec<&[u8]> = match feed {
        Feed::Whole => vec![data],
        Feed::Chunks(n) => data.chunks(n).collect(),
    };
    for piece in pieces {
        buf.extend_from_slice(piece);
        http1_step(&mut c, mode, &mut buf, &mut run, data.len());
        if c.should_close() {
            run.other("close".into());
            return run.seen;
        }
    }
    match c.read_eof() {
        Ok(Some(h2core::http1::BodyEvent::Data(d))) => run.data(&d),
        other => run.other(format!("eof {other:?}")),
    }
    if run.in_body && !c.should_close() {
        http1_answer(&mut c, mode, &mut run);
    }
    run.other(format!("closes {}", c.should_close()));
    run.seen
}

/// Everything the codec lets the application do with the bytes buffered so far.
fn http1_step(
    c: &mut h2core::http1::ServerConn,
    mode: u8,
    buf: &mut BytesMut,
    run: &mut Http1Run,
    input_len: usize,
) {
    use h2core::http1::BodyEvent;
    // Each turn takes bytes out of `buf` or ends an exchange; more turns is a loop.
    for _ in 0..2 * input_len + 8 {
        if c.should_close() {
            return;
        }
        if run.in_body {
            match c.read_body(buf) {
                Ok(Some(BodyEvent::Data(d))) => run.data(&d),
                Ok(Some(BodyEvent::End)) => {
                    run.other("end".into());
                    run.in_body = false;
                    http1_answer(c, mode, run);
                }
                Ok(Some(event)) => run.other(format!("{event:?}")),
                Ok(None) => return,
                Err(e) => {
                    run.other(format!("body error {e:?}"));
                    if !c.response_started() {
                        let mut out = BytesMut::new();
                        e.encode_response(&mut out);
                        run.output(&out);
                    }
                    return;
                }
            }
            continue;
        }
        match c.read_head(buf) {
            Ok(Some(req)) => {
                run.seen.push(Http1Seen::Request(format!(
                    "{req:?} {:?} {:?}",
                    req.head.to_h2_headers("http"),
                    req.head.h2c_upgrade()
                )));
                if mode & 2 != 0 {
                    http1_answer(c, mode, run);
                } else {
                    if let Some(go) = c.take_continue() {
                        run.output(&go);
                    }
                    run.in_body = true;
                }
            }
            Ok(None) => return,
            Err(e) => {
                run.other(format!("head error {e:?}"));
                let mut out = BytesMut::new();
                e.encode_response(&mut out);
                run.output(&out);
                return;
            }
        }
    }
    panic!("no progress after {} turns", 2 * input_len + 8);
}

/// The application's answer: `200` with `ok`, of known length when the mode says so.
fn http1_answer(c: &mut h2core::http1::ServerConn, mode: u8, run: &mut Http1Run) {
    let mut out = BytesMut::new();
    let length = (mode & 4 != 0).then_some(2);
    if let Err(e) = c.write_response_head(200, None, &[], length, &mut out) {
        run.other(format!("head refused {e:?}"));
    }
    match c.send_data(Bytes::from_static(b"ok")) {
        Ok(chunk) => chunk.write_to(&mut out),
        Err(e) => run.other(format!("data refused {e:?}")),
    }
    match c.finish_response(None) {
        Ok(Some(end)) => out.extend_from_slice(&end),
        Ok(None) => {}
        Err(e) => run.other(format!("finish refused {e:?}")),
    }
    run.output(&out);
}
