//! RFC 9113 §6.5 SETTINGS: the frame (§6.5), each defined parameter and its effect (§6.5.2)
//! and synchronization by ACK (§6.5.3), both roles.

use super::frames::{body, client, rst_on, server};
use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use h2core::{Config, Reason, SettingsValues};
use std::time::Duration;

const HEADER_TABLE_SIZE: u16 = 0x1;
const ENABLE_PUSH: u16 = 0x2;
const MAX_CONCURRENT_STREAMS: u16 = 0x3;
const INITIAL_WINDOW_SIZE: u16 = 0x4;
const MAX_FRAME_SIZE: u16 = 0x5;

/// Our server's settings with a change.
fn server_settings(f: impl FnOnce(&mut SettingsValues)) -> SettingsValues {
    let mut v = Config::server().settings;
    f(&mut v);
    v
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = frame();
    v.extend(parameters());
    v.extend(synchronization());
    v
}

fn frame() -> Vec<Scenario> {
    let s = "RFC 9113 §6.5";
    vec![
        server(
            s,
            "SETTINGS with ACK and a payload is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x4, 0x1, 0, vec![0, 4, 0, 0, 0, 1])])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "SETTINGS on a stream other than 0 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::raw_frame(0x4, 0, 1, vec![0, 3, 0, 0, 0, 10])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "SETTINGS whose length is not a multiple of 6 is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x4, 0, 0, vec![0, 3, 0, 0, 0])])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(s, "an empty SETTINGS frame is legal and acknowledged")
            .peer(vec![P::settings(vec![])])
            .expect(vec![X::settings_ack()])
            .events(vec![E::RemoteSettings])
            .expect_not(X::any_goaway()),
    ]
}

fn parameters() -> Vec<Scenario> {
    let s = "RFC 9113 §6.5.2";
    vec![
        server(
            s,
            "SETTINGS_ENABLE_PUSH other than 0 or 1 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::settings(vec![(ENABLE_PUSH, 2)])])
        .expect_not(X::settings_ack())
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a connection error FLOW_CONTROL_ERROR",
        )
        .peer(vec![P::settings(vec![(INITIAL_WINDOW_SIZE, 0x8000_0000)])])
        .expect_goaway(Reason::FLOW_CONTROL_ERROR),
        server(
            s,
            "SETTINGS_MAX_FRAME_SIZE below 2^14 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::settings(vec![(MAX_FRAME_SIZE, 16_383)])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "SETTINGS_MAX_FRAME_SIZE above 2^24-1 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::settings(vec![(MAX_FRAME_SIZE, 1 << 24)])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            s,
            "a server's SETTINGS_ENABLE_PUSH, when present, is 0: a server never receives pushes",
        )
        .expect_not(X::settings().setting(ENABLE_PUSH, 1))
        .expect(vec![X::settings()]),
        client(
            s,
            "SETTINGS_ENABLE_PUSH = 1 from a server is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::settings(vec![(ENABLE_PUSH, 1)])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client(s, "SETTINGS_ENABLE_PUSH = 0 from a server is legal")
            .peer(vec![P::settings(vec![(ENABLE_PUSH, 0)])])
            .expect(vec![X::settings_ack()])
            .expect_not(X::any_goaway()),
        Scenario::server(
            s,
            "SETTINGS_HEADER_TABLE_SIZE = 0 from the peer: our header blocks use no dynamic table",
        )
        .handshake_with(vec![(HEADER_TABLE_SIZE, 0)])
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::SendResponse(
            1,
            {
                let mut h = response("200");
                h.extend(hdrs(&[("x-repeated", "value")]));
                h
            },
            true,
        ))
        .app(A::SendResponse(
            3,
            {
                let mut h = response("200");
                h.extend(hdrs(&[("x-repeated", "value")]));
                h
            },
            true,
        ))
        .expect(vec![
            X::headers(1).field("x-repeated", "value"),
            X::headers(3).field("x-repeated", "value"),
        ]),
        Scenario::server(
            s,
            "SETTINGS_MAX_CONCURRENT_STREAMS from the peer limits our pushes, not the peer's requests",
        )
        .handshake_with(vec![(MAX_CONCURRENT_STREAMS, 0)])
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .events(vec![E::Request(1, None), E::Request(3, None)])
        .expect_not(X::any_rst()),
        Scenario::server(
            s,
            "a header list above our SETTINGS_MAX_HEADER_LIST_SIZE is refused; HPACK stays in sync",
        )
        .config(|c| c.settings.max_header_list_size = Some(300))
        .handshake()
        .peer(vec![P::headers(
            1,
            {
                let mut h = get("/big");
                h.extend(hdrs(&[("x-big", &"b".repeat(400))]));
                h
            },
        )
        .eos()])
        .expect(vec![rst_on(1)])
        .no_event(E::Request(1, None))
        .peer(vec![P::get(3, "/small")])
        .events(vec![E::Request(3, Some("/small"))])
        .expect_not(X::any_goaway()),
        Scenario::server(
            s,
            "a lowered SETTINGS_MAX_CONCURRENT_STREAMS of ours is enforced once acknowledged",
        )
        .handshake()
        .app(A::UpdateSettings(server_settings(|v| {
            v.max_concurrent_streams = Some(1)
        })))
        .expect(vec![X::settings().setting(MAX_CONCURRENT_STREAMS, 1)])
        .peer(vec![P::SettingsAck])
        .events(vec![E::SettingsAcknowledged])
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .events(vec![E::Request(1, None)])
        .expect_rst(3, Reason::REFUSED_STREAM),
    ]
}

fn synchronization() -> Vec<Scenario> {
    let s = "RFC 9113 §6.5.3";
    vec![
        server(s, "SETTINGS without ACK is acknowledged at once")
            .peer(vec![P::settings(vec![(ENABLE_PUSH, 0)])])
            .expect(vec![X::settings_ack()])
            .events(vec![E::RemoteSettings]),
        server(
            s,
            "the values of one SETTINGS frame are processed in order: the last one wins",
        )
        .peer(vec![P::settings(vec![
            (INITIAL_WINDOW_SIZE, 100),
            (INITIAL_WINDOW_SIZE, 1),
        ])])
        .expect(vec![X::settings_ack()])
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(10), true))
        .expect(vec![X::data(1).len(1).no_eos()])
        .expect_not(X::data(1)),
        server(
            s,
            "each of our SETTINGS frames is acknowledged in order; the application learns of each ACK",
        )
        .app(A::UpdateSettings(server_settings(|v| v.initial_window_size = 1 << 19)))
        .app(A::UpdateSettings(server_settings(|v| v.initial_window_size = 1 << 18)))
        .expect(vec![
            X::settings().setting(INITIAL_WINDOW_SIZE, 1 << 19),
            X::settings().setting(INITIAL_WINDOW_SIZE, 1 << 18),
        ])
        .peer(vec![P::SettingsAck, P::SettingsAck])
        .events(vec![E::SettingsAcknowledged, E::SettingsAcknowledged])
        .advance(Duration::from_secs(30))
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        server(
            s,
            "a later SETTINGS left unacknowledged times out with SETTINGS_TIMEOUT",
        )
        .app(A::UpdateSettings(server_settings(|v| v.initial_window_size = 1000)))
        .advance(Duration::from_secs(5))
        .step(Step::ExpectOpen)
        .advance(Duration::from_secs(6))
        .expect_goaway(Reason::SETTINGS_TIMEOUT),
        server(
            s,
            "our lower SETTINGS_INITIAL_WINDOW_SIZE binds the peer only once acknowledged",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::UpdateSettings(server_settings(|v| v.initial_window_size = 100)))
        .peer(vec![P::data(1, body(1000))])
        .events(vec![E::Data(1, None)])
        .expect_not(X::any_rst())
        .peer(vec![P::SettingsAck, P::request(3, "POST", "/"), P::data(3, body(101))])
        .expect_rst(3, Reason::FLOW_CONTROL_ERROR),
        client(
            s,
            "the server's SETTINGS take effect on receipt: its SETTINGS_MAX_FRAME_SIZE sizes our DATA",
        )
        .peer(vec![P::settings(vec![(MAX_FRAME_SIZE, 20_000)])])
        .events(vec![E::RemoteSettings])
        .app(A::SendRequest(crate::dsl::request("POST", "/"), false))
        .app(A::SendData(1, body(30_000), true))
        .expect(vec![
            X::data(1).len(20_000).no_eos(),
            X::data(1).len(10_000).eos(),
        ]),
        client(s, "an unsolicited SETTINGS ACK changes nothing")
            .peer(vec![P::SettingsAck])
            .no_event(E::SettingsAcknowledged)
            .app(A::SendRequest(get("/"), true))
            .expect(vec![X::headers(1)])
            .expect_not(X::any_goaway()),
    ]
}
