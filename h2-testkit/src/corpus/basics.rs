//! RFC 9113 §3.4 (preface), §6.5 (SETTINGS) and the plain request/response exchange.

use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use h2core::Reason;
use std::time::Duration;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §3.4",
            "server answers the client preface with SETTINGS and ACK",
        )
        .handshake(),
        Scenario::server(
            "RFC 9113 §3.4",
            "invalid preface is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::Raw(bytes::Bytes::from_static(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ))])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9113 §3.4",
            "first frame after the preface must be SETTINGS",
        )
        .peer(vec![P::Preface, P::ping([0; 8])])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::client(
            "RFC 9113 §3.4",
            "client sends preface and SETTINGS, acknowledges the server's",
        )
        .handshake(),
        Scenario::server("RFC 9113 §8.1", "GET request and a response with a body")
            .handshake()
            .peer(vec![P::get(1, "/")])
            .events(vec![E::Request(1, Some("/")), E::Ended(1)])
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, bytes::Bytes::from_static(b"hello\n"), true))
            .expect(vec![
                X::headers(1).status("200").no_eos(),
                X::data(1).body("hello\n").eos(),
            ]),
        Scenario::client(
            "RFC 9113 §8.1",
            "client request, response with body and trailers",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::headers(1).eos().field(":path", "/")])
        .peer(vec![
            P::response(1, "200"),
            P::data(1, "abc"),
            P::headers(1, hdrs(&[("x-checksum", "1")])).eos(),
        ])
        .events(vec![
            E::Response(1, Some("200")),
            E::Data(1, Some(bytes::Bytes::from_static(b"abc"))),
            E::Trailers(1),
            E::Ended(1),
        ]),
        Scenario::server(
            "RFC 9113 §6.5.3",
            "SETTINGS not acknowledged in time is SETTINGS_TIMEOUT",
        )
        .peer(vec![P::Preface, P::settings(vec![])])
        .expect(vec![X::settings_ack()])
        .advance(Duration::from_secs(11))
        .expect_goaway(Reason::SETTINGS_TIMEOUT),
        Scenario::server("RFC 9113 §6.7", "PING is answered with the same payload")
            .handshake()
            .peer(vec![P::ping(*b"abcdefgh")])
            .expect(vec![X::ping_ack(*b"abcdefgh")]),
        Scenario::server(
            "RFC 9110 §9.3.2",
            "a response to HEAD ends with its HEADERS and carries no DATA",
        )
        .handshake()
        .peer(vec![P::headers(1, crate::dsl::request("HEAD", "/")).eos()])
        .events(vec![E::Request(1, Some("/"))])
        .app(A::SendResponse(
            1,
            hdrs(&[(":status", "200"), ("content-length", "6")]),
            false,
        ))
        .expect(vec![X::headers(1).status("200").eos()])
        .app_err(A::SendData(1, bytes::Bytes::from_static(b"hello\n"), true))
        .expect_not(X::data(1)),
        Scenario::client(
            "RFC 9113 §5.1",
            "a response on a request still waiting for a concurrency slot is PROTOCOL_ERROR",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .expect(vec![X::headers(1)])
        .expect_not(X::headers(3))
        .peer(vec![P::response(3, "200")])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9113 §6.8",
            "graceful shutdown sends two GOAWAYs around a PING",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app(A::Shutdown)
        .expect(vec![
            X::goaway(Reason::NO_ERROR).last(0x7fff_ffff),
            X::ping(),
        ])
        .step(Step::ExpectOpen),
    ]
}
