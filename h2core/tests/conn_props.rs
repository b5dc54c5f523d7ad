//! Any byte sequence, both roles (RFC 9113 §10.5): random bytes and mutated valid frame
//! sequences never panic, one byte at a time behaves exactly as whole input (same events,
//! same bytes out), and the state kept stays under the limits.
//!
//! `PROPTEST_CASES=100000 cargo test --release -p h2core --test conn_props` for a long run.

// A test picks its starting instant; the core still only receives time as an argument.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use h2core::hpack::Encoder;
use h2core::{Config, Connection, Header, Role};
use proptest::prelude::*;
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

fn h(n: &str, v: &str) -> Header {
    Header::new(
        Bytes::copy_from_slice(n.as_bytes()),
        Bytes::copy_from_slice(v.as_bytes()),
    )
}

/// One frame of a plausible conversation, as the generator describes it.
#[derive(Debug, Clone)]
enum F {
    Data(u32, u8, Vec<u8>),
    /// A header block from the peer's HPACK encoder: request (true) or response fields.
    Headers(u32, u8, bool, u8),
    Priority(u32, u32, u8),
    Rst(u32, u32),
    Settings(Vec<(u16, u32)>),
    SettingsAck,
    PushPromise(u32, u32),
    Ping(bool, [u8; 8]),
    GoAway(u32, u32),
    WindowUpdate(u32, u32),
    Continuation(u32, u8, Vec<u8>),
    PriorityUpdate(u32, u8),
    Unknown(u8, u8, u32, Vec<u8>),
}

fn stream_id() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..12,
        1 => Just(0x7fff_ffff),
        1 => any::<u32>(),
    ]
}

fn frame_strategy() -> impl Strategy<Value = F> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (stream_id(), any::<u8>(), bytes()).prop_map(|(s, f, d)| F::Data(s, f, d)),
        (stream_id(), any::<u8>(), any::<bool>(), 0u8..8)
            .prop_map(|(s, f, r, v)| F::Headers(s, f, r, v)),
        (stream_id(), stream_id(), any::<u8>()).prop_map(|(s, d, w)| F::Priority(s, d, w)),
        (stream_id(), 0u32..16).prop_map(|(s, r)| F::Rst(s, r)),
        proptest::collection::vec((0u16..10, prop_oneof![0u32..70_000, any::<u32>()]), 0..4)
            .prop_map(F::Settings),
        Just(F::SettingsAck),
        (stream_id(), stream_id()).prop_map(|(s, p)| F::PushPromise(s, p)),
        (any::<bool>(), any::<[u8; 8]>()).prop_map(|(a, p)| F::Ping(a, p)),
        (stream_id(), 0u32..16).prop_map(|(s, r)| F::GoAway(s, r)),
        (stream_id(), prop_oneof![0u32..100_000, any::<u32>()])
            .prop_map(|(s, i)| F::WindowUpdate(s, i)),
        (stream_id(), any::<u8>(), bytes()).prop_map(|(s, f, d)| F::Continuation(s, f, d)),
        (stream_id(), 0u8..10).prop_map(|(s, u)| F::PriorityUpdate(s, u)),
        (0x11u8..=0xff, any::<u8>(), stream_id(), bytes())
            .prop_map(|(k, f, s, d)| F::Unknown(k, f, s, d)),
    ]
}

/// The header block variant that is a trailer section.
const TRAILERS: u8 = 7;

/// Encodes the frames the way a peer would (one HPACK encoder for the whole sequence).
fn encode(frames: &[F]) -> Vec<u8> {
    let mut enc = Encoder::new();
    let mut out = Vec::new();
    let mut block = |request: bool, variant: u8| {
        let mut fields = if variant == TRAILERS {
            vec![h("x-trailer", "t")]
        } else if request {
            vec![
                h(":method", "GET"),
                h(":scheme", "https"),
                h(":authority", "a.example"),
                h(":path", "/"),
            ]
        } else {
            vec![h(
                ":status",
                ["200", "204", "103", "404"][variant as usize % 4],
            )]
        };
        match variant {
            1 => fields.push(h("content-length", "3")),
            2 => fields.push(h("x-custom", "value")),
            3 => fields.reverse(),
            4 => fields.push(h("Upper", "bad")),
            5 => fields.push(h("connection", "close")),
            6 => fields.push(h("priority", "u=1, i")),
            _ => {}
        }
        let mut b = BytesMut::new();
        enc.encode(fields.iter(), &mut b);
        b.to_vec()
    };
    for f in frames {
        let bytes = match f {
            F::Data(s, fl, d) => frame(0x0, *fl & 0x9, *s, d),
            F::Headers(s, fl, req, v) => {
                let b = block(*req, *v);
                // Mostly END_HEADERS; PADDED and PRIORITY only when the payload is built for
                // them.
                let mut flags = (*fl & 0x1) | if *fl & 0x10 == 0 { 0x4 } else { 0 };
                let mut payload = Vec::new();
                if *fl & 0x20 != 0 {
                    flags |= 0x20;
                    payload.extend_from_slice(&(*s ^ 2).to_be_bytes());
                    payload.push(*fl);
                }
                payload.extend_from_slice(&b);
                frame(0x1, flags, *s, &payload)
            }
            F::Priority(s, d, w) => {
                let mut p = d.to_be_bytes().to_vec();
                p.push(*w);
                frame(0x2, 0, *s, &p)
            }
            F::Rst(s, r) => frame(0x3, 0, *s, &r.to_be_bytes()),
            F::Settings(v) => {
                let mut p = Vec::new();
                for (id, val) in v {
                    p.extend_from_slice(&id.to_be_bytes());
                    p.extend_from_slice(&val.to_be_bytes());
                }
                frame(0x4, 0, 0, &p)
            }
            F::SettingsAck => frame(0x4, 0x1, 0, &[]),
            F::PushPromise(s, p) => {
                let mut payload = p.to_be_bytes().to_vec();
                payload.extend_from_slice(&block(true, 0));
                frame(0x5, 0x4, *s, &payload)
            }
            F::Ping(ack, p) => frame(0x6, *ack as u8, 0, p),
            F::GoAway(s, r) => {
                let mut p = s.to_be_bytes().to_vec();
                p.extend_from_slice(&r.to_be_bytes());
                frame(0x7, 0, 0, &p)
            }
            F::WindowUpdate(s, i) => frame(0x8, 0, *s, &i.to_be_bytes()),
            F::Continuation(s, fl, d) => frame(0x9, *fl & 0x4, *s, d),
            F::PriorityUpdate(s, u) => {
                let mut p = s.to_be_bytes().to_vec();
                p.extend_from_slice(format!("u={u}").as_bytes());
                frame(0x10, 0, 0, &p)
            }
            F::Unknown(k, fl, s, d) => frame(*k, *fl, *s, d),
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// A step of a mostly legal conversation, realized against the streams opened so far, so
/// sequences get deep into the state machine instead of failing at their first frame.
#[derive(Debug, Clone)]
enum Op {
    /// Server: a request on the next odd stream; client: a response on one of ours.
    Open {
        end_stream: bool,
        variant: u8,
    },
    Data {
        pick: u8,
        len: u8,
        end_stream: bool,
    },
    Trailers {
        pick: u8,
    },
    Rst {
        pick: u8,
        code: u8,
    },
    WindowUpdate {
        pick: u8,
        increment: u16,
    },
    Priority {
        pick: u8,
        dep: u8,
        weight: u8,
    },
    /// Client only: a promise on one of our streams.
    Push {
        pick: u8,
    },
    Other(F),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        16 => (any::<bool>(), 0u8..7).prop_map(|(end_stream, variant)| Op::Open { end_stream, variant }),
        16 => (any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(pick, len, end_stream)| Op::Data { pick, len, end_stream }),
        4 => any::<u8>().prop_map(|pick| Op::Trailers { pick }),
        4 => (any::<u8>(), 0u8..14).prop_map(|(pick, code)| Op::Rst { pick, code }),
        8 => (any::<u8>(), any::<u16>())
            .prop_map(|(pick, increment)| Op::WindowUpdate { pick, increment }),
        4 => (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(pick, dep, weight)| Op::Priority { pick, dep, weight }),
        4 => any::<u8>().prop_map(|pick| Op::Push { pick }),
        1 => frame_strategy().prop_map(Op::Other),
    ]
}

/// Turns ops into frames for a peer of `role` (the role under test).
fn realize(role: Role, ops: &[Op]) -> Vec<F> {
    let mut opened: Vec<u32> = match role {
        Role::Server => Vec::new(),
        Role::Client => vec![1, 3, 5],
    };
    let mut next = match role {
        Role::Server => 1,
        Role::Client => 2,
    };
    let pick = |opened: &[u32], i: u8| {
        opened
            .get(i as usize % opened.len().max(1))
            .copied()
            .unwrap_or(1)
    };
    let mut frames = Vec::new();
    for op in ops {
        if opened.is_empty() && !matches!(op, Op::Open { .. } | Op::Other(_)) {
            continue;
        }
        match op.clone() {
            Op::Open {
                end_stream,
                variant,
            } => {
                let s = if role == Role::Server {
                    let s = next;
                    next += 2;
                    opened.push(s);
                    s
                } else {
                    pick(&opened, variant)
                };
                frames.push(F::Headers(
                    s,
                    end_stream as u8,
                    role == Role::Server,
                    variant % 3,
                ));
            }
            Op::Data {
                pick: p,
                len,
                end_stream,
            } => frames.push(F::Data(
                pick(&opened, p),
                end_stream as u8,
                vec![b'd'; len as usize % 50],
            )),
            Op::Trailers { pick: p } => {
                frames.push(F::Headers(pick(&opened, p), 0x1, false, TRAILERS))
            }
            Op::Rst { pick: p, code } => frames.push(F::Rst(pick(&opened, p), code as u32)),
            Op::WindowUpdate { pick: p, increment } => {
                let s = if p % 4 == 0 { 0 } else { pick(&opened, p) };
                frames.push(F::WindowUpdate(s, increment as u32 + 1))
            }
            Op::Priority {
                pick: p,
                dep,
                weight,
            } => frames.push(F::Priority(
                pick(&opened, p),
                pick(&opened, dep) + 2 * (dep as u32 % 3),
                weight,
            )),
            Op::Push { pick: p } => {
                if role == Role::Client {
                    frames.push(F::PushPromise(pick(&opened, p), next));
                    opened.push(next);
                    next += 2;
                }
            }
            Op::Other(f) => frames.push(f),
        }
    }
    frames
}

/// Flips, inserts, deletes or truncates a few bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutate(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match *m {
            Mutation::Flip(i, x) => bytes[i % n] ^= x.max(1),
            Mutation::Insert(i, x) => bytes.insert(i % (n + 1), x),
            Mutation::Delete(i) => {
                bytes.remove(i % n);
            }
            Mutation::Truncate(i) => bytes.truncate(i % n),
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// What the peer's first bytes are: the preface our role expects.
fn preface(role: Role) -> Vec<u8> {
    let mut b = Vec::new();
    if role == Role::Server {
        b.extend_from_slice(h2core::preface::PREFACE);
    }
    b.extend_from_slice(&frame(0x4, 0, 0, &[]));
    b
}

/// A connection in `role`; a client has a few requests in flight so responses and promises
/// have somewhere to go.
fn connection(role: Role, now: Instant) -> Connection {
    let mut c = Connection::new(Config::new(role), now);
    if role == Role::Client {
        for path in ["/", "/a", "/b"] {
            let req = vec![
                h(":method", "GET"),
                h(":scheme", "https"),
                h(":authority", "a.example"),
                h(":path", path),
            ];
            c.send_request(req, path == "/").unwrap();
        }
    }
    c
}

/// Everything one run produces: events (as Debug text) and bytes written.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    events: Vec<String>,
    sent: Vec<u8>,
}

fn take_output(c: &mut Connection, now: Instant, run: &mut Run) {
    loop {
        let mut out = Vec::new();
        if c.poll_transmit(now, &mut out) == 0 {
            break;
        }
        for b in out {
            run.sent.extend_from_slice(&b);
        }
    }
    while let Some(e) = c.poll_event() {
        run.events.push(format!("{e:?}"));
    }
}

/// Feeds `input` in chunks of `chunk` bytes (0: whole), output taken only at the end (so the
/// flood counters see the same thing), then a timer tick and EOF.
fn feed(role: Role, input: &[u8], chunk: usize) -> (Run, Connection) {
    let now = Instant::now();
    let mut c = connection(role, now);
    let mut run = Run {
        events: Vec::new(),
        sent: Vec::new(),
    };
    let mut buf = BytesMut::new();
    let step = if chunk == 0 {
        input.len().max(1)
    } else {
        chunk
    };
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        let _ = c.handle_input(now, &mut buf);
        check_bounds(&c, input.len());
    }
    take_output(&mut c, now, &mut run);
    let later = now + Duration::from_secs(1);
    c.handle_timeout(later);
    take_output(&mut c, later, &mut run);
    (run, c)
}

/// Memory stays under the limits, whatever the input.
fn check_bounds(c: &Connection, input_len: usize) {
    let limits = Config::server().limits;
    let (local, remote) = c.active_streams();
    assert!(remote <= 100, "{remote} active peer streams");
    assert!(local <= 3);
    assert!(
        c.tracked_streams()
            <= 3 + 100 + limits.max_reserved_streams + limits.max_closed_streams_remembered,
        "{} streams tracked",
        c.tracked_streams()
    );
    // Every frame we queue answers a frame of at least 9 octets, with at most 17 octets (PING
    // ACK), or 13 (RST_STREAM, WINDOW_UPDATE): plus our preface, SETTINGS and a GOAWAY.
    assert!(
        c.queued_output() <= 2 * input_len + 1024,
        "{} octets queued for {} in",
        c.queued_output(),
        input_len
    );
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Server), Just(Role::Client)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Honor PROPTEST_CASES for long runs; 1024 by default keeps this around a second.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1024),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(role in role(), with_preface in any::<bool>(),
                                bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut input = if with_preface { preface(role) } else { Vec::new() };
        input.extend_from_slice(&bytes);
        let _ = feed(role, &input, 0);
    }

    #[test]
    fn mutated_frame_sequences_never_panic_and_stay_bounded(
        role in role(),
        ops in proptest::collection::vec(op_strategy(), 0..60),
        muts in proptest::collection::vec(mutation(), 0..3),
    ) {
        let mut input = preface(role);
        input.extend_from_slice(&encode(&realize(role, &ops)));
        let input = mutate(input, &muts);
        let _ = feed(role, &input, 0);
    }

    #[test]
    fn one_byte_at_a_time_is_the_same_as_whole_input(
        role in role(),
        ops in proptest::collection::vec(op_strategy(), 0..40),
        muts in proptest::collection::vec(mutation(), 0..2),
        chunk in 1usize..64,
    ) {
        let mut input = preface(role);
        input.extend_from_slice(&encode(&realize(role, &ops)));
        let input = mutate(input, &muts);
        let (whole, _) = feed(role, &input, 0);
        let (bytewise, _) = feed(role, &input, 1);
        prop_assert_eq!(&whole, &bytewise);
        let (chunked, _) = feed(role, &input, chunk);
        prop_assert_eq!(&whole, &chunked);
    }
}

#[test]
fn many_streams_and_floods_stay_bounded() {
    // Deterministic worst cases the generator rarely builds: every stream id, promises,
    // resets, PRIORITY on idle streams.
    for role in [Role::Server, Role::Client] {
        let mut frames = Vec::new();
        for i in 0..3000u32 {
            let s = 1 + 2 * i;
            frames.push(F::Headers(s, 0x1, true, 0));
            frames.push(F::Priority(s + 4000, s, 0));
            frames.push(F::PushPromise(1, 2 + 2 * i));
            frames.push(F::Rst(s, 8));
        }
        let mut input = preface(role);
        input.extend_from_slice(&encode(&frames));
        let _ = feed(role, &input, 4096);
    }
}

#[test]
#[ignore]
fn depth_statistics() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    let strat = (role(), proptest::collection::vec(op_strategy(), 0..60));
    let (mut terminated, mut events, n) = (0, 0, 2000);
    let mut reasons = std::collections::BTreeMap::new();
    for _ in 0..n {
        let (role, ops) = strat.new_tree(&mut runner).unwrap().current();
        let mut input = preface(role);
        input.extend_from_slice(&encode(&realize(role, &ops)));
        let (run, _) = feed(role, &input, 0);
        events += run.events.len();
        if let Some(t) = run
            .events
            .iter()
            .find(|e| e.starts_with("ConnectionTerminated"))
        {
            terminated += 1;
            *reasons
                .entry(t.split("detail").nth(1).unwrap_or("").to_string())
                .or_insert(0) += 1;
        }
    }
    println!("terminated {terminated}/{n}, events/run {}", events / n);
    for (r, c) in reasons.iter() {
        println!("{c:5} {r}");
    }
}
