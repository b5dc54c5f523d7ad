//! Flow control: RFC 9113 §5.2 and §6.9 (WINDOW_UPDATE, the windows, SETTINGS_INITIAL_WINDOW_SIZE),
//! for what we send and what we receive, both roles.

use super::frames::{body, client, server};
use crate::dsl::{get, request, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::{Reason, WindowPolicy};

const INITIAL_WINDOW_SIZE: u16 = 0x4;
const MAX: u32 = 0x7fff_ffff;

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = window_update();
    v.extend(sending());
    v.extend(initial_window_size());
    v.extend(receiving());
    v.extend(adaptive());
    v
}

/// The payload of h2core's BDP sample PINGs (adaptive windows).
const BDP_PING: [u8; 8] = *b"h2bdpest";

/// Our BDP sample PING (not an ACK, h2core's own payload).
fn bdp_ping() -> X {
    X {
        flag: Some(false),
        payload: Some(BDP_PING),
        ..X::any(h2core::frame::FrameType::PING)
    }
}

/// Adaptive receive windows (`Config::adaptive_windows`, on by default): PING round trips
/// while DATA flows measure the bandwidth-delay product; windows grow toward it.
fn adaptive() -> Vec<Scenario> {
    let s = "RFC 9113 §6.7, §6.9";
    let upload = |name: &'static str| {
        Scenario::server(s, name)
            .handshake()
            .peer(vec![P::request(1, "POST", "/")])
    };
    let ping = h2core::frame::FrameType::PING;
    vec![
        Scenario::server(s, "adaptive windows: no BDP PING while idle")
            .handshake()
            .peer(vec![P::get(1, "/")])
            .app(A::SendResponse(1, response("200"), true))
            .advance(std::time::Duration::from_secs(60))
            .expect_not(X::any(ping)),
        Scenario::client(
            s,
            "adaptive windows: no BDP PING on an idle client connection",
        )
        .handshake()
        .advance(std::time::Duration::from_secs(60))
        .expect_not(X::any(ping)),
        upload("adaptive windows: DATA starts one BDP PING, of its own payload, at a time")
            .peer(vec![P::data(1, body(1000))])
            .expect(vec![bdp_ping()])
            .peer(vec![P::data(1, body(1000)), P::data(1, body(1000))])
            .expect_not(X::any(ping)),
        upload("adaptive windows: a BDP PING's ACK is not an application event")
            .peer(vec![P::data(1, body(1000))])
            .expect(vec![bdp_ping()])
            .advance(std::time::Duration::from_millis(40))
            .peer(vec![P::ping_ack(BDP_PING)])
            .no_event(E::PingAck(BDP_PING))
            .expect_not(X::any_goaway())
            // No more DATA: no more samples, however long the connection stays idle.
            .advance(std::time::Duration::from_secs(60))
            .expect_not(X::any(ping)),
        upload("adaptive windows: the application's PING is not refused while a BDP PING is out")
            .peer(vec![P::data(1, body(1000))])
            .expect(vec![bdp_ping()])
            .app(A::Ping(*b"app-ping"))
            .expect(vec![X {
                payload: Some(*b"app-ping"),
                ..X::ping()
            }])
            .peer(vec![P::ping_ack(BDP_PING), P::ping_ack(*b"app-ping")])
            .events(vec![E::PingAck(*b"app-ping")])
            .no_event(E::PingAck(BDP_PING)),
        {
            // 45 full frames (737,280 bytes) in one 100 ms round trip: at least two thirds of
            // the 1 MiB estimate, so it grows to twice the sample, and the connection window
            // to four times that: 5,898,240, i.e. +3,801,088 over the initial 2 MiB.
            let frames = (0..45).map(|_| P::data(1, body(16_384))).collect();
            upload("adaptive windows: a full BDP sample grows the connection window")
                .peer(frames)
                .expect(vec![bdp_ping()])
                .advance(std::time::Duration::from_millis(100))
                .peer(vec![P::ping_ack(BDP_PING)])
                .expect(vec![X::window_update(0).increment(3_801_088)])
        },
        Scenario::server(
            s,
            "adaptive windows: a stream opened before our SETTINGS are acknowledged is not grown toward them (the ACK moves it, §6.9.2)",
        )
        // The peer's preface and SETTINGS, but no ACK of ours yet: our 1 MiB initial window is
        // not in force, stream 1 has 65,535.
        .peer(vec![P::Preface, P::settings(vec![])])
        .expect(vec![X::settings(), X::settings_ack()])
        .peer(vec![P::request(1, "POST", "/"), P::data(1, body(1000))])
        .app(A::ReleaseCapacity(1, 1000))
        .expect_not(X::window_update(1))
        .peer(vec![P::SettingsAck])
        .events(vec![E::SettingsAcknowledged])
        .expect_not(X::window_update(1)),
        upload("adaptive windows off: DATA starts no PING")
            .config(|c| c.adaptive_windows = false)
            .peer(vec![P::data(1, body(1000))])
            .expect_not(X::any(ping)),
        // The connection window covers the 1 MiB initial windows of our requests: 2 MiB (the
        // default) covers two; the third grows it to 3 MiB.
        Scenario::client(
            s,
            "adaptive windows: the connection window grows to cover the initial windows of our requests",
        )
        .handshake()
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .expect_not(X::window_update(0))
        .app(A::SendRequest(get("/c"), true))
        .expect(vec![X::headers(5), X::window_update(0).increment(1 << 20)]),
        // A 4 MiB budget keeps seven eighths for the connection window: 3.5 MiB however many
        // requests are open (+1 MiB for the third, +512 KiB for the fourth, none after).
        Scenario::client(
            s,
            "adaptive windows: the connection window covering our requests stays within the memory budget",
        )
        .config(|c| c.memory_budget = 4 << 20)
        .handshake()
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .app(A::SendRequest(get("/c"), true))
        .app(A::SendRequest(get("/d"), true))
        .expect(vec![
            X::window_update(0).increment(1 << 20),
            X::window_update(0).increment(1 << 19),
        ])
        .app(A::SendRequest(get("/e"), true))
        .app(A::SendRequest(get("/f"), true))
        .expect_not(X::window_update(0)),
        Scenario::client(
            s,
            "adaptive windows off: the connection window stays as configured however many requests are open",
        )
        .config(|c| c.adaptive_windows = false)
        .handshake()
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .app(A::SendRequest(get("/c"), true))
        .app(A::SendRequest(get("/d"), true))
        .expect_not(X::window_update(0)),
        // The peer's streams do not count (§10.5): opening uploads is no evidence of a path
        // that needs a larger window, and would let any peer claim the budget.
        Scenario::server(
            s,
            "adaptive windows: streams the peer opens do not grow the connection window",
        )
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            P::request(3, "POST", "/"),
            P::request(5, "POST", "/"),
            P::request(7, "POST", "/"),
        ])
        .events(vec![
            E::Request(1, None),
            E::Request(3, None),
            E::Request(5, None),
            E::Request(7, None),
        ])
        .expect_not(X::window_update(0)),
    ]
}

/// A server whose stream 1 answers a GET with a response whose DATA is queued: `data` bytes,
/// ending the stream. `settings` are the peer's.
fn responding(
    section: &'static str,
    name: &'static str,
    settings: Vec<(u16, u32)>,
    data: usize,
) -> Scenario {
    Scenario::server(section, name)
        .handshake_with(settings)
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(data), true))
}

fn window_update() -> Vec<Scenario> {
    let s = "RFC 9113 §6.9";
    vec![
        server(
            s,
            "WINDOW_UPDATE of 0 on the connection is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::window_update(0, 0)])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "WINDOW_UPDATE of 0 on a stream is a stream error PROTOCOL_ERROR")
            .peer(vec![P::request(1, "POST", "/"), P::window_update(1, 0)])
            .expect_rst(1, Reason::PROTOCOL_ERROR),
        server(
            s,
            "WINDOW_UPDATE with a length other than 4 is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x8, 0, 0, vec![0, 0, 0, 1, 0])])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        responding(
            s,
            "the reserved bit of a WINDOW_UPDATE increment is ignored",
            vec![(INITIAL_WINDOW_SIZE, 0)],
            5,
        )
        .expect_not(X::data(1))
        .peer(vec![P::raw_frame(
            0x8,
            0,
            1,
            (0x8000_0000u32 | 5).to_be_bytes().to_vec(),
        )])
        .expect(vec![X::data(1).len(5).eos()])
        .expect_not(X::any_rst()),
        server(
            "RFC 9113 §6.9.1",
            "WINDOW_UPDATE taking the connection window above 2^31-1 is a connection error FLOW_CONTROL_ERROR",
        )
        .peer(vec![P::window_update(0, MAX), P::window_update(0, MAX)])
        .expect_goaway(Reason::FLOW_CONTROL_ERROR),
        server(
            "RFC 9113 §6.9.1",
            "WINDOW_UPDATE taking a stream window above 2^31-1 is a stream error FLOW_CONTROL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::window_update(1, MAX),
            P::window_update(1, MAX),
        ])
        .expect_rst(1, Reason::FLOW_CONTROL_ERROR),
        client(
            s,
            "the application learns of send capacity with WindowUpdated, for the connection and the stream",
        )
        .app(A::SendRequest(request("POST", "/upload"), false))
        .app(A::SendData(1, body(70_000), true))
        .expect(vec![
            X::data(1).len(16_384),
            X::data(1).len(16_384),
            X::data(1).len(16_384),
            X::data(1).len(16_383),
        ])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(0, 10_000)])
        .events(vec![E::WindowUpdated(0)])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 10_000)])
        .events(vec![E::WindowUpdated(1)])
        .expect(vec![X::data(1).len(4_465).eos()]),
    ]
}

fn sending() -> Vec<Scenario> {
    let s = "RFC 9113 §6.9.1";
    vec![
        responding(
            s,
            "with SETTINGS_INITIAL_WINDOW_SIZE = 1 we send DATA one octet at a time",
            vec![(INITIAL_WINDOW_SIZE, 1)],
            10,
        )
        .expect(vec![X::data(1).len(1).no_eos()])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 1)])
        .expect(vec![X::data(1).len(1).no_eos()])
        .expect_not(X::data(1)),
        responding(
            s,
            "we never send more than the stream window; WINDOW_UPDATE lets more go",
            vec![(INITIAL_WINDOW_SIZE, 10)],
            25,
        )
        .expect(vec![X::data(1).len(10)])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 10)])
        .expect(vec![X::data(1).len(10).no_eos()])
        .peer(vec![P::window_update(1, 100)])
        .expect(vec![X::data(1).len(5).eos()]),
        responding(
            s,
            "we never send more than the connection window, whatever the stream windows allow",
            vec![(INITIAL_WINDOW_SIZE, 1 << 20)],
            100_000,
        )
        .expect(vec![
            X::data(1).len(16_384),
            X::data(1).len(16_384),
            X::data(1).len(16_384),
            X::data(1).len(16_383),
        ])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(0, 34_465)])
        .events(vec![E::WindowUpdated(0)])
        .expect(vec![
            X::data(1).len(16_384),
            X::data(1).len(16_384),
            X::data(1).len(1_697).eos(),
        ]),
        Scenario::server(
            "RFC 9113 §5.2.1",
            "flow control applies to DATA only: HEADERS and an empty END_STREAM go out with a zero window",
        )
        .handshake_with(vec![(INITIAL_WINDOW_SIZE, 0)])
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, Bytes::new(), true))
        .expect(vec![X::headers(1).no_eos(), X::data(1).len(0).eos()]),
    ]
}

fn initial_window_size() -> Vec<Scenario> {
    let s = "RFC 9113 §6.9.2";
    vec![
        responding(
            s,
            "a new SETTINGS_INITIAL_WINDOW_SIZE adjusts the windows of open streams",
            vec![(INITIAL_WINDOW_SIZE, 0)],
            10,
        )
        .expect_not(X::data(1))
        .peer(vec![P::settings(vec![(INITIAL_WINDOW_SIZE, 1)])])
        .events(vec![E::WindowUpdated(1)])
        .expect(vec![X::settings_ack(), X::data(1).len(1).no_eos()])
        .expect_not(X::data(1)),
        responding(
            s,
            "a smaller SETTINGS_INITIAL_WINDOW_SIZE can make a stream window negative; DATA waits until it is positive",
            vec![(INITIAL_WINDOW_SIZE, 3)],
            10,
        )
        .expect(vec![X::data(1).len(3)])
        .peer(vec![P::settings(vec![(INITIAL_WINDOW_SIZE, 2)])])
        .expect(vec![X::settings_ack()])
        .peer(vec![P::window_update(1, 1)])
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 2)])
        .expect(vec![X::data(1).len(2).no_eos()])
        .expect_not(X::data(1)),
        responding(
            s,
            "SETTINGS_INITIAL_WINDOW_SIZE changes stream windows only, never the connection window",
            vec![],
            10,
        )
        .expect(vec![X::data(1).len(10).eos()])
        .peer(vec![
            P::get(3, "/"),
            P::settings(vec![(INITIAL_WINDOW_SIZE, 1 << 20)]),
        ])
        .app(A::SendResponse(3, response("200"), false))
        .app(A::SendData(3, body(70_000), true))
        .expect(vec![
            X::data(3).len(16_384),
            X::data(3).len(16_384),
            X::data(3).len(16_384),
            X::data(3).len(16_373),
        ])
        .expect_not(X::data(3))
        .peer(vec![P::window_update(0, 4_474)])
        .expect(vec![X::data(3).len(4_474).no_eos()])
        .expect_not(X::data(3)),
        server(
            s,
            "a SETTINGS_INITIAL_WINDOW_SIZE taking an open stream's window above 2^31-1 is a connection error FLOW_CONTROL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::window_update(1, MAX - 65_535),
            P::settings(vec![(INITIAL_WINDOW_SIZE, 65_536)]),
        ])
        .expect_goaway(Reason::FLOW_CONTROL_ERROR),
        Scenario::client(
            s,
            "our connection window is enlarged by a WINDOW_UPDATE after the preface: SETTINGS cannot change it",
        )
        .config(|c| c.connection_window = 1 << 20)
        .expect(vec![
            X::settings(),
            X::window_update(0).increment((1 << 20) - 65_535),
        ]),
    ]
}

fn receiving() -> Vec<Scenario> {
    let s = "RFC 9113 §6.9";
    let small_stream = |name: &'static str| {
        Scenario::server(s, name)
            .config(|c| c.settings.initial_window_size = 100)
            .handshake()
            .peer(vec![P::request(1, "POST", "/")])
    };
    vec![
        small_stream("DATA beyond the stream window is a stream error FLOW_CONTROL_ERROR")
            .peer(vec![P::data(1, body(101))])
            .no_event(E::Data(1, None))
            .expect_rst(1, Reason::FLOW_CONTROL_ERROR),
        small_stream("padding counts against the flow-control windows")
            .peer(vec![P::data(1, body(50)).padded(60)])
            .no_event(E::Data(1, None))
            .expect_rst(1, Reason::FLOW_CONTROL_ERROR),
        small_stream("release_capacity of consumed DATA produces a stream WINDOW_UPDATE")
            .peer(vec![P::data(1, body(60))])
            .events(vec![E::Data(1, None)])
            .expect_not(X::window_update(1))
            .app(A::ReleaseCapacity(1, 30))
            .expect_not(X::window_update(1))
            .app(A::ReleaseCapacity(1, 30))
            .expect(vec![X::window_update(1).increment(60)])
            .peer(vec![P::data(1, body(100))])
            .events(vec![E::Data(1, None)])
            .expect_not(X::any_rst()),
        Scenario::server(
            s,
            "release_capacity of consumed DATA reopens the connection window",
        )
        .config(|c| c.connection_window = 65_535)
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::data(1, body(7_232)),
        ])
        .events(vec![E::Data(1, None), E::Data(1, None), E::Data(1, None)])
        .app(A::ReleaseCapacity(1, 40_000))
        .expect(vec![X::window_update(0).increment(40_000)]),
        Scenario::server(
            s,
            "DATA beyond the connection window is a connection error FLOW_CONTROL_ERROR",
        )
        .config(|c| c.connection_window = 65_535)
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
        ])
        .expect_goaway(Reason::FLOW_CONTROL_ERROR),
        Scenario::server(
            "RFC 9113 §6.1",
            "padding is returned to the peer by the connection itself, without waiting for the application",
        )
        .config(|c| c.window_policy = WindowPolicy { divisor: u32::MAX })
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::data(1, "hello").padded(10)])
        .expect(vec![
            X::window_update(0).increment(11),
            X::window_update(1).increment(11),
        ])
        .app(A::ReleaseCapacity(1, 5))
        .expect(vec![
            X::window_update(0).increment(5),
            X::window_update(1).increment(5),
        ]),
        Scenario::server(
            s,
            "after the peer's END_STREAM, released DATA reopens the connection window only",
        )
        .config(|c| c.window_policy = WindowPolicy { divisor: u32::MAX })
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::data(1, "done").eos()])
        .events(vec![E::Ended(1)])
        .app(A::ReleaseCapacity(1, 4))
        .expect(vec![X::window_update(0).increment(4)])
        .expect_not(X::window_update(1)),
        Scenario::server(
            "RFC 9113 §6.9",
            "DATA on a stream we reset is still credited to the connection window (x/net/http2's stuck window)",
        )
        .config(|c| c.connection_window = 65_535)
        .handshake()
        .peer(vec![P::request(1, "POST", "/upload")])
        .app(A::Reset(1, Reason::CANCEL))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        // The peer had all of this in flight: the whole connection window, on the reset stream.
        .peer(vec![
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::data(1, body(16_383)),
        ])
        .no_event(E::Data(1, None))
        .expect(vec![X::window_update(0), X::window_update(0)])
        .peer(vec![
            P::request(3, "POST", "/next"),
            P::data(3, body(16_384)),
            P::data(3, body(16_384)),
            P::data(3, body(16_384)),
            P::data(3, body(16_383)).eos(),
        ])
        .events(vec![
            E::Data(3, None),
            E::Data(3, None),
            E::Data(3, None),
            E::Data(3, None),
            E::Ended(3),
        ])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        Scenario::server(
            "RFC 9113 §6.9",
            "DATA answered with a stream error STREAM_CLOSED still counts and is credited back to the connection window",
        )
        .config(|c| c.connection_window = 65_535)
        .handshake()
        .peer(vec![
            P::get(1, "/"),
            P::data(1, body(16_384)),
            P::data(1, body(16_384)),
            P::request(3, "POST", "/"),
            P::rst(3, Reason::CANCEL),
            P::data(3, body(16_384)),
            P::data(3, body(16_383)),
        ])
        .expect(vec![
            X::rst(1, Reason::STREAM_CLOSED),
            X::rst(3, Reason::STREAM_CLOSED),
        ])
        .peer(vec![
            P::request(5, "POST", "/"),
            P::data(5, body(16_384)),
            P::data(5, body(16_384)),
            P::data(5, body(16_384)),
            P::data(5, body(16_383)).eos(),
        ])
        .events(vec![E::Ended(5)])
        .expect_not(X::any_goaway()),
    ]
}
