//! RFC 9113 §3 (starting HTTP/2) and §3.4 (the connection preface), both roles.

use crate::dsl::{get, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::Reason;

const S: &str = "RFC 9113 §3.4";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::server(
            S,
            "the server connection preface is a SETTINGS frame, sent without waiting for the client",
        )
        .expect(vec![X::settings()])
        .expect_not(X::settings_ack()),
        Scenario::server(
            S,
            "SETTINGS received in the client preface take effect and are acknowledged after our own",
        )
        .peer(vec![
            P::Preface,
            P::settings(vec![(0x3, 10), (0x4, 1000), (0x5, 20_000)]),
        ])
        .expect(vec![X::settings(), X::settings_ack()])
        .events(vec![E::RemoteSettings]),
        Scenario::server(
            S,
            "a client may send frames right after its preface, before the server preface arrives",
        )
        .peer(vec![P::Preface, P::settings(vec![]), P::get(1, "/early")])
        .events(vec![E::Request(1, Some("/early")), E::Ended(1)])
        .app(A::SendResponse(1, response("204"), true))
        .expect(vec![X::settings(), X::settings_ack(), X::headers(1).eos()]),
        Scenario::server(
            S,
            "a preface announcing HTTP/1.1 instead of HTTP/2.0 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::Raw(Bytes::from_static(b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"))])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            S,
            "a preface wrong in its last octet is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::Raw(Bytes::from_static(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r"))])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            S,
            "a SETTINGS ACK is not the SETTINGS frame the client preface needs: PROTOCOL_ERROR",
        )
        .peer(vec![P::Preface, P::SettingsAck])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            S,
            "a request in place of the preface SETTINGS is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::Preface, P::get(1, "/")])
        .no_event(E::Request(1, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            S,
            "a first frame that is not SETTINGS, here a DATA too large to read, is an invalid preface: PROTOCOL_ERROR",
        )
        .peer(vec![P::Preface, P::raw_frame(0x0, 0, 1, vec![0; 20_000])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(S, "the transport closing mid-preface ends the connection")
            .peer(vec![P::Raw(Bytes::from_static(b"PRI * HTTP/2.0\r\n"))])
            .step(Step::PeerEof)
            .step(Step::ExpectClosed)
            .events(vec![E::Terminated(None)]),
        Scenario::client(
            S,
            "the client preface is the magic octets followed by a SETTINGS frame",
        )
        .expect(vec![X::settings()]),
        Scenario::client(
            S,
            "a client may send a request before the server preface arrives",
        )
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::settings(), X::headers(1).eos()])
        .peer(vec![P::settings(vec![]), P::response(1, "200").eos()])
        .expect(vec![X::settings_ack()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)]),
        Scenario::client(
            S,
            "a server preface that does not start with SETTINGS is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::ping([1; 8])])
        .expect_not(X::ping_ack([1; 8]))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::client(
            S,
            "a server answering with HTTP/1.1 has sent an invalid preface: PROTOCOL_ERROR",
        )
        .peer(vec![P::Raw(Bytes::from_static(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        ))])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::client(
            S,
            "a SETTINGS ACK cannot be the server preface: PROTOCOL_ERROR",
        )
        .peer(vec![P::SettingsAck])
        .expect_goaway(Reason::PROTOCOL_ERROR),
    ]
}
