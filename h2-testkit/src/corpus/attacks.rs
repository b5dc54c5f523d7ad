//! RFC 9113 §10.5 (denial of service): one scenario per known HTTP/2 attack, each checking the
//! limit of `h2core::Limits` or `Config` that stops it and what the peer is told. The table in
//! SECURITY.md maps each attack to its limit, default and scenario.

use super::frames::{body, server, static_get_block};
use crate::dsl::{get, hdrs, plus, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use h2core::{Config, Reason, SettingsValues};
use std::time::Duration;

const S: &str = "RFC 9113 §10.5";
const CALM: Reason = Reason::ENHANCE_YOUR_CALM;
const MAX_WINDOW: u32 = 0x7fff_ffff;
const INITIAL_WINDOW_SIZE: u16 = 0x4;

/// `n` copies of `frame`.
fn many(frame: P, n: usize) -> Vec<P> {
    vec![frame; n]
}

/// A request header block from the static table plus `extra` raw HPACK bytes.
fn static_get_plus(extra: &[u8]) -> Vec<u8> {
    let mut b = static_get_block();
    b.extend_from_slice(extra);
    b
}

/// A server whose peer opened both flow-control windows as wide as they go (§6.9.1).
fn wide_open(name: &'static str) -> Scenario {
    Scenario::server(S, name)
        .handshake_with(vec![(INITIAL_WINDOW_SIZE, MAX_WINDOW)])
        .peer(vec![P::window_update(0, MAX_WINDOW - 65_535)])
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = floods();
    v.extend(header_attacks());
    v.extend(slow_peers());
    v.extend(windows_and_ids());
    v
}

fn floods() -> Vec<Scenario> {
    vec![
        server(
            S,
            "CVE-2019-9512 PING flood: more unwritten PING ACKs than max_pending_control_frames is ENHANCE_YOUR_CALM",
        )
        .stop_reading()
        .peer(many(P::ping(*b"flooding"), 1025))
        .resume_reading()
        .expect(vec![X::ping_ack(*b"flooding")])
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2019-9512: PINGs within max_pending_control_frames are all answered",
        )
        .stop_reading()
        .peer(many(P::ping(*b"pingping"), 1024))
        .resume_reading()
        .expect(vec![X::ping_ack(*b"pingping"); 1024])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        server(
            S,
            "CVE-2019-9515 SETTINGS flood: more unwritten SETTINGS ACKs than max_pending_control_frames is ENHANCE_YOUR_CALM",
        )
        .stop_reading()
        .peer(many(P::settings(vec![]), 1025))
        .resume_reading()
        .expect(vec![X::settings_ack()])
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2020-11080: a SETTINGS frame with more than max_settings_entries entries is ENHANCE_YOUR_CALM",
        )
        .peer(vec![P::settings(vec![(0x3, 100); 33])])
        .expect_not(X::settings_ack())
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2019-9513 priority loop: more PRIORITY frames per reset_window than max_priority_frames_per_window is ENHANCE_YOUR_CALM",
        )
        .peer(
            [P::priority(3, 5, 200, true), P::priority(5, 3, 10, true)]
                .iter()
                .cycle()
                .take(1001)
                .cloned()
                .collect(),
        )
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2019-9513: a dependency loop reshaped within the limit costs nothing lasting; requests are served",
        )
        .peer(
            [P::priority(3, 5, 200, true), P::priority(5, 3, 10, true)]
                .iter()
                .cycle()
                .take(1000)
                .cloned()
                .collect(),
        )
        .advance(Duration::from_secs(1))
        .peer(vec![P::priority(7, 3, 0, false), P::get(1, "/")])
        .events(vec![E::Request(1, Some("/"))])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        server(
            S,
            "CVE-2019-9514 RST_STREAM flood: more streams we must reset per reset_window than max_resets_per_window is ENHANCE_YOUR_CALM",
        )
        .peer(
            (0..201)
                .map(|i| P::headers(1 + 2 * i, hdrs(&[(":method", "GET")])).eos())
                .collect(),
        )
        .expect(vec![X::rst(1, Reason::PROTOCOL_ERROR)])
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2023-44487 rapid reset: more streams opened and reset per reset_window than max_resets_per_window is ENHANCE_YOUR_CALM",
        )
        .peer(
            (0..201)
                .flat_map(|i| [P::get(1 + 2 * i, "/"), P::rst(1 + 2 * i, Reason::CANCEL)])
                .collect(),
        )
        .events(vec![E::Request(1, Some("/")), E::Reset(1, Some(Reason::CANCEL))])
        .expect_goaway(CALM),
        server(
            S,
            "CVE-2023-44487: resets within max_resets_per_window per window leave the connection serving",
        )
        .peer(
            (0..200)
                .flat_map(|i| [P::get(1 + 2 * i, "/"), P::rst(1 + 2 * i, Reason::CANCEL)])
                .collect(),
        )
        .advance(Duration::from_secs(1))
        .peer(vec![P::get(401, "/"), P::rst(401, Reason::CANCEL), P::get(403, "/after")])
        .events(vec![E::Request(403, Some("/after"))])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        server(
            S,
            "CVE-2019-9518 empty frames flood: more empty DATA frames per reset_window than max_empty_frames_per_window is ENHANCE_YOUR_CALM",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .peer(many(P::data(1, ""), 1001))
        .expect_goaway(CALM),
    ]
}

fn header_attacks() -> Vec<Scenario> {
    // A 4,000-octet value inserted into the dynamic table (§6.2.1): name "x-bomb".
    let mut insert_bomb = vec![0x40, 0x06];
    insert_bomb.extend_from_slice(b"x-bomb");
    insert_bomb.extend_from_slice(&[0x7f, 0xa1, 0x1e]); // 4000 = 127 + 3873 (RFC 7541 §5.1)
    insert_bomb.extend_from_slice(&[b'a'; 4000]);
    vec![
        server(
            S,
            "CONTINUATION flood: a header block in more than max_continuation_frames frames is ENHANCE_YOUR_CALM",
        )
        .peer(vec![P::get(1, "/").no_end_headers()])
        .peer(many(P::continuation(1, vec![], false), 100))
        .no_event(E::Request(1, None))
        .expect_goaway(CALM),
        server(
            S,
            "CONTINUATION flood: a header block above max_header_block_size is ENHANCE_YOUR_CALM before it is decoded",
        )
        .peer(vec![P::raw_frame(0x1, 0x1, 1, vec![0u8; 16_384])])
        .peer(many(P::raw_frame(0x9, 0x0, 1, vec![0u8; 16_384]), 16))
        .no_event(E::Request(1, None))
        .expect_goaway(CALM),
        server(
            S,
            "CONTINUATION without END_HEADERS until the peer leaves: nothing is delivered, the connection ends",
        )
        .peer(vec![
            P::get(1, "/").no_end_headers(),
            P::continuation(1, vec![], false),
        ])
        .step(Step::PeerEof)
        .no_event(E::Request(1, None))
        .step(Step::ExpectClosed),
        server(
            S,
            "HPACK bomb: a large table entry referenced many times refuses the stream at SETTINGS_MAX_HEADER_LIST_SIZE; the connection goes on",
        )
        .peer(vec![P::headers(1, vec![])
            .raw_block(static_get_plus(&insert_bomb))
            .eos()])
        .events(vec![E::Request(1, Some("/"))])
        .peer(vec![P::headers(3, vec![])
            .raw_block(static_get_plus(&[0xbe; 1000]))
            .eos()])
        .no_event(E::Request(3, None))
        .expect_rst(3, Reason::PROTOCOL_ERROR)
        .peer(vec![P::headers(5, vec![]).raw_block(static_get_block()).eos()])
        .events(vec![E::Request(5, Some("/"))]),
        server(
            S,
            "a header list over SETTINGS_MAX_HEADER_LIST_SIZE refuses the stream with RST_STREAM PROTOCOL_ERROR; the connection goes on",
        )
        .peer(vec![P::headers(
            1,
            plus(get("/"), &[("x-big", &"b".repeat(70_000))]),
        )
        .eos()
        .pieces(8)])
        .no_event(E::Request(1, None))
        .expect_rst(1, Reason::PROTOCOL_ERROR)
        .peer(vec![P::get(3, "/next")])
        .events(vec![E::Request(3, Some("/next"))]),
        server(
            S,
            "too many header fields: more than max_header_fields refuses the stream with RST_STREAM PROTOCOL_ERROR",
        )
        .peer(vec![P::headers(1, {
            let mut h = get("/");
            h.extend(hdrs(&[("x-a", "1")]).into_iter().cycle().take(600));
            h
        })
        .eos()])
        .no_event(E::Request(1, None))
        .expect_rst(1, Reason::PROTOCOL_ERROR)
        .peer(vec![P::get(3, "/next")])
        .events(vec![E::Request(3, Some("/next"))]),
        server(
            S,
            "CVE-2019-9516 0-length headers: empty entries cost 32 octets of table each; the request is malformed, the connection goes on",
        )
        .peer(vec![P::headers(1, vec![])
            .raw_block(static_get_plus(&[0x40, 0x00, 0x00].repeat(1000)))
            .eos()])
        .no_event(E::Request(1, None))
        .expect_rst(1, Reason::PROTOCOL_ERROR)
        .peer(vec![P::headers(3, vec![]).raw_block(static_get_block()).eos()])
        .events(vec![E::Request(3, Some("/"))]),
    ]
}

fn slow_peers() -> Vec<Scenario> {
    vec![
        Scenario::server(
            S,
            "slow preface: a client preface not complete within handshake_timeout is GOAWAY SETTINGS_TIMEOUT",
        )
        .config(|c| c.handshake_timeout = Duration::from_secs(5))
        .peer(vec![P::Raw(bytes::Bytes::from_static(b"PRI * HTTP/2.0\r\n"))])
        .advance(Duration::from_secs(4))
        .step(Step::ExpectOpen)
        .advance(Duration::from_secs(1))
        .expect_goaway(Reason::SETTINGS_TIMEOUT),
        Scenario::server(
            S,
            "absent preface: a peer that sends nothing is GOAWAY SETTINGS_TIMEOUT after handshake_timeout",
        )
        .advance(Duration::from_secs(10))
        .expect_goaway(Reason::SETTINGS_TIMEOUT),
        Scenario::client(
            S,
            "absent server preface: a server that never sends SETTINGS is GOAWAY SETTINGS_TIMEOUT",
        )
        .advance(Duration::from_secs(10))
        .expect_goaway(Reason::SETTINGS_TIMEOUT),
        server(
            S,
            "idle connection: no stream for idle_timeout shuts down gracefully with GOAWAY NO_ERROR; PINGs do not keep it open",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), true))
        .advance(Duration::from_secs(50))
        .peer(vec![P::ping(*b"stillhre")])
        .advance(Duration::from_secs(50))
        .peer(vec![P::ping(*b"stillhre")])
        .advance(Duration::from_secs(19))
        .expect_not(X::any_goaway())
        .advance(Duration::from_secs(1))
        .expect(vec![X::goaway(Reason::NO_ERROR)])
        .advance(Duration::from_secs(1))
        .expect(vec![X::goaway(Reason::NO_ERROR).last(1)])
        .advance(Duration::from_secs(2))
        .step(Step::ExpectClosed),
        server(
            S,
            "slowloris: a header block trickled in CONTINUATION frames does not keep a connection from idling",
        )
        .peer(vec![P::get(1, "/").no_end_headers()])
        .advance(Duration::from_secs(60))
        .peer(vec![P::continuation(1, vec![], false)])
        .advance(Duration::from_secs(60))
        .expect(vec![X::goaway(Reason::NO_ERROR)])
        .no_event(E::Request(1, None)),
        server(
            S,
            "a connection with an active stream is not idle, however long it is quiet",
        )
        .peer(vec![P::get(1, "/slow")])
        .advance(Duration::from_secs(600))
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        wide_open(
            "CVE-2019-9517 internal data buffering: a peer that opens its windows and never reads is cut after write_timeout",
        )
        .peer(vec![P::get(1, "/large")])
        .stop_reading()
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(1 << 20), true))
        .advance(Duration::from_secs(59))
        .step(Step::ExpectOpen)
        .advance(Duration::from_secs(1))
        .events(vec![E::Reset(1, Some(CALM)), E::Terminated(Some(CALM))])
        .step(Step::ExpectClosed),
        wide_open(
            "a peer slower than write_timeout in all, but never stalled that long, is not cut",
        )
        .peer(vec![P::get(1, "/large")])
        .stop_reading()
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(1 << 20), true))
        .advance(Duration::from_secs(50))
        .resume_reading()
        .stop_reading()
        .advance(Duration::from_secs(50))
        .resume_reading()
        .expect(vec![X::data(1).eos()])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        Scenario::server(
            S,
            "CVE-2019-9511 data dribble: 1-octet windows get 1-octet DATA frames, one per WINDOW_UPDATE, nothing queued ahead",
        )
        .handshake_with(vec![(INITIAL_WINDOW_SIZE, 1)])
        .peer(vec![P::get(1, "/large")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(100_000), true))
        .expect(vec![X::data(1).len(1)])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 1)])
        .expect(vec![X::data(1).len(1)])
        .peer(vec![P::window_update(1, 1)])
        .expect(vec![X::data(1).len(1)])
        .expect_not(X::data(1))
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
    ]
}

fn windows_and_ids() -> Vec<Scenario> {
    vec![
        server(
            "RFC 9113 §6.9.2",
            "a smaller SETTINGS_INITIAL_WINDOW_SIZE returns bytes already released at once: no window stays stuck at zero",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, body(10_000)),
            P::data(1, body(10_000)),
        ])
        .events(vec![E::Data(1, None), E::Data(1, None)])
        .app(A::ReleaseCapacity(1, 20_000))
        .expect_not(X::window_update(1))
        .app(A::UpdateSettings(SettingsValues {
            initial_window_size: 10_000,
            ..Config::server().settings
        }))
        .peer(vec![P::SettingsAck])
        .expect(vec![X::window_update(1).increment(20_000)])
        .step(Step::ExpectOpen),
        server(
            S,
            "WINDOW_UPDATE overflow on the connection is GOAWAY FLOW_CONTROL_ERROR",
        )
        .peer(vec![P::window_update(0, MAX_WINDOW)])
        .expect_goaway(Reason::FLOW_CONTROL_ERROR),
        server(
            S,
            "WINDOW_UPDATE overflow on a stream is RST_STREAM FLOW_CONTROL_ERROR",
        )
        .peer(vec![P::get(1, "/")])
        .peer(vec![P::window_update(1, MAX_WINDOW)])
        .expect_rst(1, Reason::FLOW_CONTROL_ERROR),
        server(
            S,
            "stream identifier exhaustion: after stream 2^31-1 a lower identifier is PROTOCOL_ERROR",
        )
        .peer(vec![P::get(MAX_WINDOW, "/last")])
        .events(vec![E::Request(MAX_WINDOW, Some("/last"))])
        .peer(vec![P::get(1, "/again")])
        .no_event(E::Request(1, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
    ]
}
