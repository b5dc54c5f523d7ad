//! RFC 9113 §5: stream states (§5.1, every state against the frames that matter, legal and
//! illegal), identifiers (§5.1.1), concurrency both ways (§5.1.2), priority signals as hints
//! (§5.3) and error handling (§5.4), in both roles; with the PUSH_PROMISE receipt rules of §6.6.

use super::frames::{body, client, rst_on, server};
use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::Reason;
use std::time::Duration;

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = idle();
    v.extend(reserved());
    v.extend(open_and_half_closed());
    v.extend(closed());
    v.extend(identifiers());
    v.extend(concurrency());
    v.extend(priority());
    v.extend(errors());
    v.extend(push_promise());
    v.extend(stop_receiving());
    v.extend(deadlines());
    v
}

/// A pushed request's header list.
fn pushed(path: &str) -> Vec<h2core::Header> {
    get(path)
}

/// A client whose request on stream 1 is half-closed (local), and which holds the promise of
/// stream 2 for `/pushed` (reserved (remote)).
fn client_with_promise(section: &'static str, name: &'static str) -> Scenario {
    client(section, name)
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, pushed("/pushed"))])
        .events(vec![E::Pushed(1, 2)])
}

/// A server that promised stream 2 on the client's stream 1 (reserved (local)).
fn server_with_promise(section: &'static str, name: &'static str) -> Scenario {
    server(section, name)
        .peer(vec![P::get(1, "/")])
        .app(A::PushPromise(1, pushed("/pushed")))
        .expect(vec![X::push_promise(1, 2)])
}

fn idle() -> Vec<Scenario> {
    let s = "RFC 9113 §5.1 idle";
    vec![
        server(s, "DATA on an idle stream is a connection error PROTOCOL_ERROR")
            .peer(vec![P::data(1, "test").eos()])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR")
            .peer(vec![P::window_update(1, 100)])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "CONTINUATION on an idle stream is a connection error PROTOCOL_ERROR")
            .peer(vec![P::continuation(1, get("/"), true)])
            .no_event(E::Request(1, None))
            .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            s,
            "HEADERS on an idle server stream that was never promised is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::response(2, "200").eos()])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            s,
            "DATA on our own idle stream, before any request, is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::data(1, "early")])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            s,
            "RST_STREAM on our own idle stream is a connection error PROTOCOL_ERROR",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::rst(3, Reason::CANCEL)])
        .expect_goaway(Reason::PROTOCOL_ERROR),
    ]
}

fn reserved() -> Vec<Scenario> {
    let local = "RFC 9113 §5.1 reserved (local)";
    let remote = "RFC 9113 §5.1 reserved (remote)";
    vec![
        server_with_promise(
            local,
            "a promised stream carries our response once we send its HEADERS",
        )
        .app(A::SendResponse(2, response("200"), false))
        .app(A::SendData(2, Bytes::from_static(b"pushed"), true))
        .expect(vec![
            X::headers(2).status("200").no_eos(),
            X::data(2).body("pushed").eos(),
        ])
        .expect_not(X::any_rst()),
        server_with_promise(
            local,
            "on a reserved (local) stream we send HEADERS before anything else",
        )
        .app_err(A::SendData(2, Bytes::from_static(b"early"), true))
        .expect_not(X::data(2)),
        server_with_promise(
            local,
            "HEADERS from the peer on a reserved (local) stream is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::get(2, "/")])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server_with_promise(
            local,
            "DATA from the peer on a reserved (local) stream is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::data(2, "nope")])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server_with_promise(
            local,
            "the peer may refuse a promise with RST_STREAM: the stream closes and is never answered",
        )
        .peer(vec![P::rst(2, Reason::CANCEL)])
        .events(vec![E::Reset(2, Some(Reason::CANCEL))])
        .app_err(A::SendResponse(2, response("200"), true))
        .expect_not(X::headers(2))
        .expect_not(X::any_goaway()),
        client_with_promise(
            remote,
            "the server's HEADERS on a reserved (remote) stream delivers the pushed response",
        )
        .peer(vec![P::response(2, "200"), P::data(2, "pushed").eos()])
        .events(vec![
            E::Response(2, Some("200")),
            E::Data(2, Some(Bytes::from_static(b"pushed"))),
            E::Ended(2),
        ])
        .expect_not(X::any_rst()),
        client_with_promise(
            remote,
            "WINDOW_UPDATE on a reserved (remote) stream is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::window_update(2, 10)])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client_with_promise(
            remote,
            "the server may cancel its promise with RST_STREAM",
        )
        .peer(vec![P::rst(2, Reason::CANCEL)])
        .events(vec![E::Reset(2, Some(Reason::CANCEL))])
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
        client_with_promise(
            remote,
            "we may refuse a promised stream with RST_STREAM; its late frames are then ignored",
        )
        .app(A::Reset(2, Reason::CANCEL))
        .expect(vec![X::rst(2, Reason::CANCEL)])
        .peer(vec![P::response(2, "200"), P::data(2, "late").eos()])
        .no_event(E::Response(2, None))
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
    ]
}

fn open_and_half_closed() -> Vec<Scenario> {
    let open = "RFC 9113 §5.1 open";
    let hcr = "RFC 9113 §5.1 half-closed (remote)";
    let hcl = "RFC 9113 §5.1 half-closed (local)";
    vec![
        server(open, "RST_STREAM on an open stream closes it and tells the application")
            .peer(vec![P::request(1, "POST", "/"), P::rst(1, Reason::INTERNAL_ERROR)])
            .events(vec![E::Reset(1, Some(Reason::INTERNAL_ERROR))])
            .expect_not(X::any_rst())
            .expect_not(X::any_goaway()),
        server(open, "trailers with END_STREAM half-close an open stream")
            .peer(vec![
                P::request(1, "POST", "/"),
                P::data(1, "a"),
                P::headers(1, hdrs(&[("x-trailer", "1")])).eos(),
            ])
            .events(vec![E::Data(1, None), E::Trailers(1), E::Ended(1)])
            .app(A::SendResponse(1, response("200"), true))
            .expect(vec![X::headers(1).eos()]),
        server(
            hcr,
            "DATA after the peer's END_STREAM is a stream error STREAM_CLOSED",
        )
        .peer(vec![P::get(1, "/"), P::data(1, "test").eos()])
        .no_event(E::Data(1, None))
        .expect_rst(1, Reason::STREAM_CLOSED),
        server(
            hcr,
            "HEADERS after the peer's END_STREAM is a stream error STREAM_CLOSED",
        )
        .peer(vec![P::get(1, "/"), P::get(1, "/")])
        .events(vec![E::Request(1, None), E::Reset(1, Some(Reason::STREAM_CLOSED))])
        .expect_rst(1, Reason::STREAM_CLOSED),
        server(
            hcr,
            "CONTINUATION after a complete header block is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::get(1, "/"), P::continuation(1, get("/"), true)])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        Scenario::server(
            hcr,
            "WINDOW_UPDATE on a half-closed (remote) stream is accepted and lets our DATA go",
        )
        .handshake_with(vec![(0x4, 0)])
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, Bytes::from_static(b"hello"), true))
        .expect_not(X::data(1))
        .peer(vec![P::window_update(1, 5)])
        .events(vec![E::WindowUpdated(1)])
        .expect(vec![X::data(1).body("hello").eos()])
        .expect_not(X::any_rst()),
        server(
            hcr,
            "RST_STREAM on a half-closed (remote) stream closes it without an answer",
        )
        .peer(vec![P::get(1, "/"), P::rst(1, Reason::CANCEL)])
        .events(vec![E::Reset(1, Some(Reason::CANCEL))])
        .app_err(A::SendResponse(1, response("200"), true))
        .expect_not(X::any_rst()),
        client(
            hcl,
            "a half-closed (local) stream still receives every frame type: WINDOW_UPDATE, PRIORITY, HEADERS, DATA",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::window_update(1, 100),
            P::priority(1, 0, 7, false),
            P::response(1, "200"),
            P::data(1, "body").eos(),
        ])
        .events(vec![
            E::Response(1, Some("200")),
            E::Data(1, Some(Bytes::from_static(b"body"))),
            E::Ended(1),
        ])
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
        client(hcl, "RST_STREAM from the server closes our half-closed (local) request")
            .app(A::SendRequest(get("/"), true))
            .peer(vec![P::rst(1, Reason::REFUSED_STREAM)])
            .events(vec![E::Reset(1, Some(Reason::REFUSED_STREAM))])
            .expect_not(X::any_rst()),
        client(hcl, "we send nothing more on a stream after its END_STREAM")
            .app(A::SendRequest(get("/"), true))
            .app_err(A::SendData(1, Bytes::from_static(b"late"), true))
            .app_err(A::SendTrailers(1, hdrs(&[("x", "y")]))),
    ]
}

fn closed() -> Vec<Scenario> {
    let s = "RFC 9113 §5.1 closed";
    vec![
        server(
            s,
            "DATA after the peer's RST_STREAM is a stream error STREAM_CLOSED",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::rst(1, Reason::CANCEL),
            P::data(1, "test").eos(),
        ])
        .expect_rst(1, Reason::STREAM_CLOSED),
        server(
            s,
            "HEADERS after the peer's RST_STREAM is a stream error STREAM_CLOSED",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::rst(1, Reason::CANCEL),
            P::headers(1, hdrs(&[("x-trailer", "1")])).eos(),
        ])
        .no_event(E::Trailers(1))
        .expect_rst(1, Reason::STREAM_CLOSED),
        server(
            s,
            "CONTINUATION after the peer's RST_STREAM is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::rst(1, Reason::CANCEL),
            P::continuation(1, hdrs(&[("x-a", "b")]), true),
        ])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "DATA on a stream closed by END_STREAM both ways is a connection error STREAM_CLOSED",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(vec![P::data(1, "test").eos()])
        .expect_goaway(Reason::STREAM_CLOSED),
        server(
            s,
            "HEADERS on a stream closed by END_STREAM both ways is a connection error STREAM_CLOSED",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(vec![P::get(1, "/")])
        .expect_goaway(Reason::STREAM_CLOSED),
        server(
            s,
            "WINDOW_UPDATE and RST_STREAM just after our END_STREAM closed the stream are ignored",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), true))
        .peer(vec![
            P::window_update(1, 10),
            P::rst(1, Reason::NO_ERROR),
            P::ping([3; 8]),
        ])
        .expect(vec![X::ping_ack([3; 8])])
        .no_event(E::Reset(1, None))
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
        server(
            s,
            "after our RST_STREAM, frames the peer had already sent on the stream are ignored",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::Reset(1, Reason::CANCEL))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .peer(vec![
            P::data(1, "in flight"),
            P::window_update(1, 100),
            P::priority(1, 0, 1, false),
            P::headers(1, hdrs(&[("x-trailer", "1")])).eos(),
            P::rst(1, Reason::CANCEL),
            P::ping([4; 8]),
        ])
        .expect(vec![X::ping_ack([4; 8])])
        .no_event(E::Data(1, None))
        .no_event(E::Trailers(1))
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
        client(
            s,
            "DATA after the server's END_STREAM closed the stream is a connection error STREAM_CLOSED",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "200").eos(), P::data(1, "late")])
        .events(vec![E::Ended(1)])
        .expect_goaway(Reason::STREAM_CLOSED),
        client(
            s,
            "a PUSH_PROMISE on a stream we reset still reserves the promised stream, which we then reset",
        )
        .app(A::SendRequest(get("/"), true))
        .app(A::Reset(1, Reason::CANCEL))
        .peer(vec![P::push_promise(1, 2, pushed("/late-push"))])
        .expect(vec![X::rst(2, Reason::CANCEL)])
        .no_event(E::Pushed(1, 2))
        .expect_not(X::any_goaway())
        .peer(vec![P::push_promise(1, 4, pushed("/late-push-2"))])
        .expect(vec![X::rst(4, Reason::CANCEL)])
        .step(Step::ExpectOpen),
    ]
}

fn identifiers() -> Vec<Scenario> {
    let s = "RFC 9113 §5.1.1";
    vec![
        server(
            s,
            "a client stream with an even identifier is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::get(2, "/")])
        .no_event(E::Request(2, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "a new stream identifier smaller than a previous one is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::get(5, "/"), P::get(3, "/")])
        .events(vec![E::Request(5, None)])
        .no_event(E::Request(3, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "opening a stream implicitly closes the idle streams below it: DATA there is STREAM_CLOSED",
        )
        .peer(vec![P::get(5, "/"), P::data(3, "x")])
        .expect_rst(3, Reason::STREAM_CLOSED),
        server(s, "stream identifiers may skip values")
            .peer(vec![P::get(1, "/"), P::get(7, "/seven")])
            .events(vec![E::Request(1, None), E::Request(7, Some("/seven"))])
            .expect_not(X::any_goaway()),
        server(s, "the largest stream identifier, 2^31-1, is usable")
            .peer(vec![P::get(0x7fff_ffff, "/last")])
            .events(vec![E::Request(0x7fff_ffff, Some("/last"))])
            .app(A::SendResponse(0x7fff_ffff, response("200"), true))
            .expect(vec![X::headers(0x7fff_ffff).eos()]),
        client(
            s,
            "our requests use odd stream identifiers, each larger than the last",
        )
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .app(A::SendRequest(get("/c"), true))
        .expect(vec![
            X::headers(1).field(":path", "/a"),
            X::headers(3).field(":path", "/b"),
            X::headers(5).field(":path", "/c"),
        ]),
        server(s, "our pushed streams use even identifiers, each larger than the last")
            .peer(vec![P::get(1, "/")])
            .app(A::PushPromise(1, pushed("/p1")))
            .app(A::PushPromise(1, pushed("/p2")))
            .expect(vec![X::push_promise(1, 2), X::push_promise(1, 4)]),
    ]
}

fn concurrency() -> Vec<Scenario> {
    let s = "RFC 9113 §5.1.2";
    vec![
        Scenario::server(
            s,
            "a stream beyond our SETTINGS_MAX_CONCURRENT_STREAMS is refused with REFUSED_STREAM",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(2))
        .handshake()
        .peer(vec![P::get(1, "/"), P::get(3, "/"), P::get(5, "/")])
        .events(vec![E::Request(1, None), E::Request(3, None)])
        .no_event(E::Request(5, None))
        .expect_rst(5, Reason::REFUSED_STREAM),
        Scenario::server(
            s,
            "half-closed streams count toward the limit; a closed stream frees its slot",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(1))
        .handshake()
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .expect(vec![X::rst(3, Reason::REFUSED_STREAM)])
        .app(A::SendResponse(1, response("200"), true))
        .peer(vec![P::get(5, "/five")])
        .events(vec![E::Request(5, Some("/five"))])
        .expect_not(X::any_rst()),
        Scenario::client(
            s,
            "our request waits for a slot under the peer's limit and goes out when one frees",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/first"), true))
        .app(A::SendRequest(get("/second"), true))
        .expect(vec![X::headers(1).field(":path", "/first")])
        .expect_not(X::headers(3))
        .peer(vec![P::response(1, "200").eos()])
        .expect(vec![X::headers(3).field(":path", "/second")]),
        Scenario::client(
            s,
            "the slot freed by our last DATA frame opens the waiting request right after that frame",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(hdrs_post("/upload"), false))
        .app(A::SendRequest(get("/waiting"), true))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Ended(1)])
        .expect_not(X::headers(3))
        .app(A::SendData(1, Bytes::from_static(b"body"), true))
        .expect(vec![
            X::data(1).body("body").eos(),
            X::headers(3).field(":path", "/waiting"),
        ]),
        Scenario::client(
            s,
            "a limit of 0 holds our requests; raising it by SETTINGS sends them in order",
        )
        .handshake_with(vec![(0x3, 0)])
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .expect_not(X::headers(1))
        .peer(vec![P::settings(vec![(0x3, 2)])])
        .expect(vec![
            X::settings_ack(),
            X::headers(1).field(":path", "/a"),
            X::headers(3).field(":path", "/b"),
        ]),
        Scenario::client(
            s,
            "DATA queued on a waiting request follows its HEADERS once the stream opens",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/first"), true))
        .app(A::SendRequest(hdrs_post("/upload"), false))
        .app(A::SendData(3, Bytes::from_static(b"payload"), true))
        .expect_not(X::data(3))
        .peer(vec![P::response(1, "200").eos()])
        .expect(vec![
            X::headers(3).no_eos(),
            X::data(3).body("payload").eos(),
        ]),
        Scenario::client(
            s,
            "resetting a request still waiting for a slot sends nothing",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/first"), true))
        .app(A::SendRequest(get("/dropped"), true))
        .app(A::SendRequest(get("/third"), true))
        .app(A::Reset(3, Reason::CANCEL))
        .peer(vec![P::response(1, "200").eos()])
        .expect(vec![X::headers(5).field(":path", "/third")])
        .expect_not(rst_on(3))
        .expect_not(X::headers(3)),
        Scenario::client(
            s,
            "a limit lowered below the active streams lets them finish; new requests wait",
        )
        .handshake()
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .peer(vec![P::settings(vec![(0x3, 1)])])
        .app(A::SendRequest(get("/c"), true))
        .expect(vec![X::headers(1), X::headers(3)])
        .expect_not(X::headers(5))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Ended(1)])
        .expect_not(X::headers(5))
        .peer(vec![P::response(3, "200").eos()])
        .expect(vec![X::headers(5).field(":path", "/c")]),
        client(
            s,
            "streams the server pushes do not count against the server's limit on our requests",
        )
        .peer(vec![P::settings(vec![(0x3, 1)])])
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::push_promise(1, 2, pushed("/p")),
            P::response(2, "200"),
            P::response(1, "200").eos(),
        ])
        .events(vec![E::Ended(1)])
        .app(A::SendRequest(get("/next"), true))
        .expect(vec![X::headers(3).field(":path", "/next")]),
        Scenario::server(
            s,
            "a promised response counts against the client's limit: its HEADERS waits for a slot",
        )
        .handshake_with(vec![(0x3, 1)])
        .peer(vec![P::get(1, "/")])
        .app(A::PushPromise(1, pushed("/p2")))
        .app(A::PushPromise(1, pushed("/p4")))
        .expect(vec![X::push_promise(1, 2), X::push_promise(1, 4)])
        .app(A::SendResponse(2, response("200"), false))
        .app(A::SendResponse(4, response("200"), false))
        .app(A::SendData(4, Bytes::from_static(b"four"), true))
        .expect(vec![X::headers(2).no_eos()])
        .expect_not(X::headers(4))
        .expect_not(X::data(4))
        .app(A::SendData(2, Bytes::from_static(b"two"), true))
        .expect(vec![
            X::data(2).body("two").eos(),
            X::headers(4).no_eos(),
            X::data(4).body("four").eos(),
        ]),
        Scenario::server(
            s,
            "a promised response still waiting for a slot is reset with RST_STREAM: the client knows the stream",
        )
        .handshake_with(vec![(0x3, 0)])
        .peer(vec![P::get(1, "/")])
        .app(A::PushPromise(1, pushed("/p")))
        .app(A::SendResponse(2, response("200"), true))
        .expect(vec![X::push_promise(1, 2)])
        .expect_not(X::headers(2))
        .app(A::Reset(2, Reason::CANCEL))
        .expect(vec![X::rst(2, Reason::CANCEL)])
        .peer(vec![P::settings(vec![(0x3, 10)])])
        .expect_not(X::headers(2)),
        Scenario::client(
            s,
            "a pushed stream opened beyond our SETTINGS_MAX_CONCURRENT_STREAMS is refused",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(1))
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::push_promise(1, 2, pushed("/p2")),
            P::push_promise(1, 4, pushed("/p4")),
            P::response(2, "200"),
            P::response(4, "200"),
        ])
        .events(vec![E::Response(2, Some("200"))])
        .no_event(E::Response(4, None))
        .expect_rst(4, Reason::REFUSED_STREAM),
    ]
}

fn hdrs_post(path: &str) -> Vec<h2core::Header> {
    crate::dsl::request("POST", path)
}

fn priority() -> Vec<Scenario> {
    let s = "RFC 9113 §5.3";
    // Three streams answered at once while the connection window is closed; which one gets
    // DATA first when it opens is the priority hint at work.
    let contended = |name: &'static str| {
        Scenario::server(s, name)
            .config(|c| c.connection_window = 65_535)
            .handshake()
            .peer(vec![P::get(1, "/"), P::get(3, "/"), P::get(5, "/")])
            .app(A::SendResponse(5, response("200"), false))
            .app(A::SendData(5, body(65_535), false))
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendResponse(3, response("200"), false))
    };
    vec![
        server(
            s,
            "PRIORITY making an idle stream depend on itself fails the connection: idle streams cannot be reset",
        )
        .peer(vec![P::priority(1, 1, 15, false)])
        .expect_not(X::any_rst())
        .expect_goaway(Reason::PROTOCOL_ERROR),
        contended("DATA of a stream goes before DATA of the stream the peer made depend on it")
            .peer(vec![P::priority(3, 1, 15, true)])
            .app(A::SendData(3, body(1000), true))
            .app(A::SendData(1, body(1000), true))
            .peer(vec![P::window_update(0, 1000)])
            .expect(vec![X::data(1).len(1000).eos()])
            .expect_not(X::data(3))
            .peer(vec![P::window_update(0, 1000)])
            .expect(vec![X::data(3).len(1000).eos()]),
    ]
}

fn errors() -> Vec<Scenario> {
    let s1 = "RFC 9113 §5.4.1";
    let s2 = "RFC 9113 §5.4.2";
    vec![
        server(
            s1,
            "a connection error sends GOAWAY with the last stream processed, then closes",
        )
        .peer(vec![P::get(1, "/"), P::get(3, "/"), P::ping_ack([0; 8])])
        .peer(vec![P::raw_frame(0x6, 0, 0, vec![0; 7])])
        .expect(vec![X::goaway(Reason::FRAME_SIZE_ERROR).last(3)])
        .step(Step::ExpectClosed)
        .events(vec![
            E::Reset(1, Some(Reason::FRAME_SIZE_ERROR)),
            E::Terminated(Some(Reason::FRAME_SIZE_ERROR)),
        ]),
        server(s1, "nothing is read after a connection error")
            .peer(vec![
                P::raw_frame(0x6, 0, 1, vec![0; 8]),
                P::ping([5; 8]),
                P::get(1, "/"),
            ])
            .expect(vec![X::goaway(Reason::PROTOCOL_ERROR)])
            .expect_not(X::ping_ack([5; 8]))
            .no_event(E::Request(1, None))
            .step(Step::ExpectClosed),
        client(
            s1,
            "a connection error reports every open stream and the end of the connection",
        )
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .peer(vec![P::window_update(0, 0)])
        .expect_goaway(Reason::PROTOCOL_ERROR)
        .events(vec![
            E::Reset(1, Some(Reason::PROTOCOL_ERROR)),
            E::Reset(3, Some(Reason::PROTOCOL_ERROR)),
            E::Terminated(Some(Reason::PROTOCOL_ERROR)),
        ])
        .step(Step::ExpectClosed),
        server(
            s2,
            "a stream error resets only that stream; other streams go on",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::get(3, "/other"),
            P::window_update(1, 0),
        ])
        .expect(vec![X::rst(1, Reason::PROTOCOL_ERROR)])
        .events(vec![
            E::Request(3, Some("/other")),
            E::Reset(1, Some(Reason::PROTOCOL_ERROR)),
        ])
        .app(A::SendResponse(3, response("200"), true))
        .expect(vec![X::headers(3).eos()])
        .expect_not(X::any_goaway()),
        server(
            s2,
            "at most one RST_STREAM per stream: more frames on it after our reset are ignored",
        )
        .peer(vec![P::get(1, "/"), P::data(1, "bad")])
        .expect(vec![X::rst(1, Reason::STREAM_CLOSED)])
        .peer(vec![P::data(1, "again"), P::data(1, "and again").eos()])
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
        server(
            "RFC 9113 §5.4.3",
            "the transport closing with streams open ends them and the connection",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .step(Step::PeerEof)
        .step(Step::ExpectClosed)
        .events(vec![E::Reset(1, None), E::Terminated(None)]),
    ]
}

fn push_promise() -> Vec<Scenario> {
    let s = "RFC 9113 §6.6";
    vec![
        client(s, "a PUSH_PROMISE on stream 0 is a connection error PROTOCOL_ERROR")
            .app(A::SendRequest(get("/"), true))
            .peer(vec![P::raw_frame(0x5, 0x4, 0, vec![0, 0, 0, 2, 0x82])])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            s,
            "a PUSH_PROMISE on a stream that is neither open nor half-closed (local) is a connection error PROTOCOL_ERROR",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Ended(1)])
        .peer(vec![P::push_promise(1, 2, pushed("/late"))])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            s,
            "a padded PUSH_PROMISE split over CONTINUATION frames is accepted",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::Block {
                stream: 1,
                promised: Some(2),
                headers: pushed("/split"),
                end_stream: false,
                end_headers: true,
                pieces: 3,
                priority: None,
                pad: Some(7),
                raw_block: None,
            },
            P::response(2, "200").eos(),
        ])
        .events(vec![E::Pushed(1, 2), E::Response(2, Some("200")), E::Ended(2)]),
    ]
}

/// `Connection::stop_receiving`: the application drops a body it received before its end
/// (RFC 9113 §8.1, §5.4.2). One rule for every adapter.
fn stop_receiving() -> Vec<Scenario> {
    let s = "RFC 9113 §8.1 a body the application no longer reads";
    let upload = || P::request(1, "POST", "/upload");
    let chunk = || P::data(1, body(16_384));
    vec![
        server(s, "a server that stops reading answers, then asks the client to stop with RST_STREAM NO_ERROR")
            .peer(vec![upload(), P::data(1, "abc")])
            .events(vec![E::Request(1, Some("/upload")), E::Data(1, None)])
            .app(A::StopReceiving(1))
            .expect_not(rst_on(1))
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, Bytes::from_static(b"ok"), true))
            .expect(vec![X::headers(1), X::data(1).eos(), X::rst(1, Reason::NO_ERROR)]),
        server(s, "a server whose response is complete resets at once with NO_ERROR")
            .peer(vec![upload()])
            .events(vec![E::Request(1, Some("/upload"))])
            .app(A::SendResponse(1, response("204"), true))
            .expect(vec![X::headers(1).eos()])
            .app(A::StopReceiving(1))
            .expect(vec![X::rst(1, Reason::NO_ERROR)]),
        server(s, "DATA after stop_receiving is not delivered and goes back to flow control at once")
            .peer(vec![upload()])
            .events(vec![E::Request(1, Some("/upload"))])
            .app(A::StopReceiving(1))
            // 33 x 16 KiB passes half the 1 MiB stream window: a WINDOW_UPDATE without any
            // release_capacity from the application.
            .peer((0..33).map(|_| chunk()).collect())
            .no_event(E::Data(1, None))
            .expect(vec![X::window_update(1)])
            .expect_not(rst_on(1)),
        client(s, "a client that stops reading a response cancels the stream")
            .app(A::SendRequest(get("/big"), true))
            .peer(vec![P::response(1, "200"), P::data(1, "first")])
            .events(vec![E::Response(1, Some("200")), E::Data(1, None)])
            .app(A::StopReceiving(1))
            .expect(vec![X::rst(1, Reason::CANCEL)]),
        client(s, "stop_receiving after the response ended sends nothing")
            .app(A::SendRequest(get("/"), true))
            .peer(vec![P::response(1, "200"), P::data(1, "all").eos()])
            .events(vec![E::Response(1, Some("200")), E::Ended(1)])
            .app(A::StopReceiving(1))
            .expect_not(rst_on(1)),
    ]
}

/// A stream's deadline (`Connection::set_deadline`): the application gives up, the peer is
/// told with CANCEL (§8.1, §5.4.2).
fn deadlines() -> Vec<Scenario> {
    let s = "RFC 9113 §8.1";
    vec![
        client(
            s,
            "a request whose deadline passes is reset with CANCEL and reported",
        )
        .app(A::SendRequest(get("/slow"), true))
        .app(A::SetDeadline(1, Duration::from_secs(5)))
        .expect(vec![X::headers(1).eos()])
        .advance(Duration::from_secs(4))
        .expect_not(rst_on(1))
        .no_event(E::DeadlinePassed(1))
        .advance(Duration::from_secs(2))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .events(vec![E::DeadlinePassed(1)]),
        client(
            s,
            "a deadline passes mid-body: the stream is reset, what came stays delivered",
        )
        .app(A::SendRequest(get("/big"), true))
        .app(A::SetDeadline(1, Duration::from_secs(1)))
        .peer(vec![P::response(1, "200"), P::data(1, "first")])
        .events(vec![E::Response(1, Some("200")), E::Data(1, None)])
        .advance(Duration::from_secs(2))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .events(vec![E::DeadlinePassed(1)]),
        client(
            s,
            "a stream that ends before its deadline takes the deadline with it",
        )
        .app(A::SendRequest(get("/"), true))
        .app(A::SetDeadline(1, Duration::from_secs(1)))
        .peer(vec![P::response(1, "200"), P::data(1, "all").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)])
        .advance(Duration::from_secs(2))
        .expect_not(rst_on(1))
        .no_event(E::DeadlinePassed(1)),
        client(s, "setting the deadline again moves it")
            .app(A::SendRequest(get("/"), true))
            .app(A::SetDeadline(1, Duration::from_secs(1)))
            .app(A::SetDeadline(1, Duration::from_secs(10)))
            .advance(Duration::from_secs(2))
            .expect_not(rst_on(1))
            .advance(Duration::from_secs(9))
            .expect(vec![X::rst(1, Reason::CANCEL)])
            .events(vec![E::DeadlinePassed(1)]),
        server(
            s,
            "a server may give a request a deadline too (gRPC's grpc-timeout)",
        )
        .peer(vec![P::headers(1, get("/rpc")).eos()])
        .events(vec![E::Request(1, Some("/rpc")), E::Ended(1)])
        .app(A::SetDeadline(1, Duration::from_secs(1)))
        .advance(Duration::from_secs(2))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .events(vec![E::DeadlinePassed(1)]),
        client(s, "a deadline on a stream that is not open is refused")
            .app_err(A::SetDeadline(1, Duration::from_secs(1))),
    ]
}
