//! RFC 9113 §6.7 PING and §6.8 GOAWAY, including the two-step graceful shutdown, both roles.

use super::frames::{client, server};
use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use h2core::Reason;
use std::time::Duration;

/// The payload of our shutdown PING (h2core's graceful shutdown round trip).
const SHUTDOWN_PING: [u8; 8] = *b"h2shutdn";
const LAST: u32 = 0x7fff_ffff;

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = ping();
    v.extend(ping_policy());
    v.extend(goaway());
    v.extend(graceful_shutdown());
    v
}

fn ping() -> Vec<Scenario> {
    let s = "RFC 9113 §6.7";
    vec![
        server(s, "a PING ACK is never answered")
            .peer(vec![P::ping_ack(*b"12345678")])
            .expect_not(X::any(h2core::frame::FrameType::PING))
            .no_event(E::PingAck(*b"12345678"))
            .expect_not(X::any_goaway()),
        server(s, "PING on a stream other than 0 is a connection error PROTOCOL_ERROR")
            .peer(vec![P::raw_frame(0x6, 0, 1, vec![0; 8])])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "PING with a length other than 8 is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x6, 0, 0, vec![0; 6])])
        .expect_not(X::ping_ack([0; 8]))
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        client(s, "a client answers the server's PING with the same payload")
            .peer(vec![P::ping(*b"srv-ping")])
            .expect(vec![X::ping_ack(*b"srv-ping")]),
        server(
            s,
            "our PING is answered by an ACK with its payload; the application learns the round trip",
        )
        .app(A::Ping(*b"app-ping"))
        .expect(vec![X::ping()])
        .advance(Duration::from_millis(30))
        .peer(vec![P::ping_ack(*b"app-ping")])
        .events(vec![E::PingAck(*b"app-ping")]),
        Scenario::server(s, "an unanswered keepalive PING ends the connection")
            .config(|c| {
                c.keepalive_interval = Some(Duration::from_secs(5));
                c.keepalive_timeout = Duration::from_secs(2);
            })
            .handshake()
            .advance(Duration::from_secs(5))
            .expect(vec![X::ping()])
            .advance(Duration::from_secs(3))
            .expect(vec![X::any_goaway()])
            .step(Step::ExpectClosed),
        Scenario::server(s, "an answered keepalive PING keeps the connection")
            .config(|c| {
                c.keepalive_interval = Some(Duration::from_secs(5));
                c.keepalive_timeout = Duration::from_secs(2);
            })
            .handshake()
            .advance(Duration::from_secs(5))
            .expect(vec![X::ping()])
            .peer(vec![P::ping_ack(*b"h2keepal")])
            .advance(Duration::from_secs(3))
            .expect_not(X::any_goaway())
            .step(Step::ExpectOpen),
    ]
}

fn goaway() -> Vec<Scenario> {
    let s = "RFC 9113 §6.8";
    vec![
        server(s, "GOAWAY on a stream other than 0 is a connection error PROTOCOL_ERROR")
            .peer(vec![P::raw_frame(0x7, 0, 1, vec![0; 8])])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "GOAWAY shorter than 8 octets is a connection error FRAME_SIZE_ERROR")
            .peer(vec![P::raw_frame(0x7, 0, 0, vec![0; 7])])
            .expect_goaway(Reason::FRAME_SIZE_ERROR),
        client(
            s,
            "streams above the peer's last-stream-id were not processed: they are refused, the others go on",
        )
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .app(A::SendRequest(get("/c"), true))
        .peer(vec![P::goaway(1, Reason::NO_ERROR)])
        .events(vec![E::GoAway(Some(1), Some(Reason::NO_ERROR))])
        .events(vec![E::Reset(3, Some(Reason::REFUSED_STREAM))])
        .no_event(E::Reset(1, None))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)])
        // Both sides said GOAWAY and nothing is in flight: ours goes out and we close.
        .expect(vec![X::goaway(Reason::NO_ERROR).last(0)])
        .step(Step::ExpectClosed),
        Scenario::client(
            s,
            "requests still waiting for a slot when GOAWAY arrives are refused",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .peer(vec![P::goaway(1, Reason::NO_ERROR)])
        .events(vec![E::Reset(3, Some(Reason::REFUSED_STREAM))])
        .peer(vec![P::response(1, "200").eos()])
        .expect_not(X::headers(3)),
        client(s, "a GOAWAY whose last-stream-id increases is a connection error PROTOCOL_ERROR")
            .app(A::SendRequest(get("/"), true))
            .peer(vec![P::goaway(1, Reason::NO_ERROR), P::goaway(3, Reason::NO_ERROR)])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        client(s, "a second GOAWAY with a lower last-stream-id refuses more streams")
            .app(A::SendRequest(get("/a"), true))
            .app(A::SendRequest(get("/b"), true))
            .peer(vec![P::goaway(LAST, Reason::NO_ERROR)])
            .no_event(E::Reset(1, None))
            .no_event(E::Reset(3, None))
            .peer(vec![P::goaway(1, Reason::NO_ERROR)])
            .events(vec![E::Reset(3, Some(Reason::REFUSED_STREAM))])
            .no_event(E::Reset(1, None))
            .step(Step::ExpectOpen),
        server(
            s,
            "a GOAWAY with an unknown error code ends an idle connection like any other code",
        )
        .peer(vec![P::goaway(0, Reason(0xff))])
        .events(vec![E::GoAway(Some(0), Some(Reason(0xff)))])
        .step(Step::ExpectClosed),
        server(
            s,
            "after the client's GOAWAY we push no more, but still answer its requests",
        )
        .peer(vec![P::get(1, "/"), P::goaway(0, Reason::NO_ERROR)])
        .app_err(A::PushPromise(1, get("/pushed")))
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).eos()]),
        server(
            s,
            "once the client's GOAWAY has no streams left to finish, we answer with our own GOAWAY",
        )
        .peer(vec![P::get(1, "/"), P::goaway(0, Reason::NO_ERROR)])
        .expect_not(X::any_goaway())
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::goaway(Reason::NO_ERROR).last(1)])
        .step(Step::PeerEof)
        .step(Step::ExpectClosed)
        .events(vec![E::Terminated(Some(Reason::NO_ERROR))]),
        server(
            s,
            "the application can end the connection at once: GOAWAY with the last stream processed and the code",
        )
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::GoAway(Reason::ENHANCE_YOUR_CALM))
        .expect(vec![X::goaway(Reason::ENHANCE_YOUR_CALM).last(3)])
        .step(Step::ExpectClosed)
        .events(vec![E::Terminated(Some(Reason::ENHANCE_YOUR_CALM))]),
        client(
            s,
            "a client's graceful shutdown sends GOAWAY naming the last pushed stream and opens nothing more",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, get("/p"))])
        .app(A::Shutdown)
        .expect(vec![X::goaway(Reason::NO_ERROR).last(2)])
        .app_err(A::SendRequest(get("/more"), true))
        .peer(vec![P::response(1, "200").eos(), P::response(2, "200").eos()])
        .events(vec![E::Ended(1), E::Ended(2)])
        .step(Step::ExpectOpen),
        Scenario::client(
            s,
            "a graceful shutdown refuses the requests still waiting for a slot",
        )
        .handshake_with(vec![(0x3, 1)])
        .app(A::SendRequest(get("/a"), true))
        .app(A::SendRequest(get("/b"), true))
        .app(A::Shutdown)
        .events(vec![E::Reset(3, Some(Reason::REFUSED_STREAM))])
        .expect_not(X::headers(3)),
    ]
}

fn graceful_shutdown() -> Vec<Scenario> {
    let s = "RFC 9113 §6.8";
    vec![
        server(
            s,
            "graceful shutdown: GOAWAY 2^31-1 and a PING, then after the round trip the final GOAWAY with the last stream",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::Shutdown)
        .expect(vec![
            X::goaway(Reason::NO_ERROR).last(LAST),
            X::ping(),
        ])
        // Opened before the peer saw the first GOAWAY: still processed.
        .peer(vec![P::get(3, "/in-flight")])
        .events(vec![E::Request(3, Some("/in-flight"))])
        .peer(vec![P::ping_ack(SHUTDOWN_PING)])
        .expect(vec![X::goaway(Reason::NO_ERROR).last(3)])
        // Above the final last-stream-id: never processed.
        .peer(vec![P::get(5, "/too-late")])
        .no_event(E::Request(5, None))
        .app(A::SendResponse(1, response("200"), true))
        .app(A::SendResponse(3, response("200"), true))
        .expect(vec![X::headers(1).eos(), X::headers(3).eos()])
        .expect_not(X::headers(5))
        .step(Step::ExpectOpen)
        .step(Step::PeerEof)
        .step(Step::ExpectClosed)
        .events(vec![E::Terminated(Some(Reason::NO_ERROR))]),
        server(
            s,
            "graceful shutdown: without the PING answer the final GOAWAY goes after a grace period",
        )
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::Shutdown)
        .expect(vec![X::goaway(Reason::NO_ERROR).last(LAST)])
        .expect_not(X::goaway(Reason::NO_ERROR).last(3))
        .advance(Duration::from_secs(2))
        .expect(vec![X::goaway(Reason::NO_ERROR).last(3)]),
        server(
            s,
            "header blocks of streams above the final last-stream-id are still decoded, keeping HPACK in sync",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::Shutdown)
        .peer(vec![P::ping_ack(SHUTDOWN_PING)])
        .expect(vec![X::goaway(Reason::NO_ERROR).last(1)])
        .peer(vec![
            P::headers(3, {
                let mut h = get("/ignored");
                h.extend(hdrs(&[("x-after", "goaway")]));
                h
            })
            .eos(),
            P::headers(1, hdrs(&[("x-after", "goaway")])).eos(),
        ])
        .no_event(E::Request(3, None))
        .events(vec![E::Field(1, "x-after", "goaway")])
        .expect_not(X::any_goaway()),
        server(
            s,
            "a connection error after the final GOAWAY never raises its last-stream-id",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::Shutdown)
        .peer(vec![P::ping_ack(SHUTDOWN_PING)])
        .expect(vec![X::goaway(Reason::NO_ERROR).last(1)])
        .peer(vec![P::get(3, "/ignored"), P::raw_frame(0x6, 0, 0, vec![0; 3])])
        .expect(vec![X::goaway(Reason::FRAME_SIZE_ERROR).last(1)])
        .step(Step::ExpectClosed),
        server(
            s,
            "closing at once after the first GOAWAY names the last stream actually processed",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::Shutdown)
        .peer(vec![P::get(3, "/")])
        .app(A::GoAway(Reason::INTERNAL_ERROR))
        .expect(vec![X::goaway(Reason::INTERNAL_ERROR).last(3)])
        .step(Step::ExpectClosed),
        server(
            s,
            "after the final GOAWAY and the last stream, we keep answering PINGs until the peer closes",
        )
        .app(A::Shutdown)
        .peer(vec![P::ping_ack(SHUTDOWN_PING)])
        .expect(vec![X::goaway(Reason::NO_ERROR).last(0)])
        .peer(vec![P::ping(*b"draining")])
        .expect(vec![X::ping_ack(*b"draining")])
        .step(Step::ExpectOpen)
        .step(Step::PeerEof)
        .step(Step::ExpectClosed),
        server(
            s,
            "a draining connection closes by itself when the peer never closes",
        )
        .app(A::Shutdown)
        .peer(vec![P::ping_ack(SHUTDOWN_PING)])
        .expect(vec![X::goaway(Reason::NO_ERROR).last(0)])
        .advance(Duration::from_secs(3))
        .step(Step::ExpectClosed)
        .events(vec![E::Terminated(Some(Reason::NO_ERROR))]),
        server(s, "after our first GOAWAY, streams already open are answered normally")
            .peer(vec![P::get(1, "/")])
            .app(A::Shutdown)
            .expect(vec![X::goaway(Reason::NO_ERROR)])
            .app(A::SendResponse(1, response("200"), false))
            .expect(vec![X::headers(1)])
            .step(Step::ExpectOpen),
    ]
}

/// `Config::ping_policy`, as gRPC servers enforce keepalive: PINGs too close together are
/// strikes; beyond the allowed strikes, GOAWAY ENHANCE_YOUR_CALM "too_many_pings"
/// (RFC 9113 §6.7, §10.5); our HEADERS or DATA clear the strikes.
fn ping_policy() -> Vec<Scenario> {
    let s = "RFC 9113 §10.5";
    let policy = |permit_without_streams| {
        move |c: &mut h2core::Config| {
            c.ping_policy = Some(h2core::PingPolicy {
                min_interval: Duration::from_secs(10),
                permit_without_streams,
                max_strikes: 2,
            });
        }
    };
    let calm = || X::goaway_with(Reason::ENHANCE_YOUR_CALM, b"too_many_pings");
    let ping = |p: &[u8; 8]| P::ping(*p);
    vec![
        Scenario::server(
            s,
            "PINGs closer than the policy allows: two strikes pass, the third ends the connection",
        )
        .config(policy(true))
        .handshake()
        .peer(vec![ping(b"ping-one")])
        .expect(vec![X::ping_ack(*b"ping-one")])
        .advance(Duration::from_secs(1))
        .peer(vec![ping(b"ping-two")])
        .expect(vec![X::ping_ack(*b"ping-two")])
        .advance(Duration::from_secs(1))
        .peer(vec![ping(b"ping-thr")])
        .expect(vec![X::ping_ack(*b"ping-thr")])
        .expect_not(X::any_goaway())
        .advance(Duration::from_secs(1))
        .peer(vec![ping(b"ping-fou")])
        .expect_not(X::ping_ack(*b"ping-fou"))
        .expect(vec![calm()])
        .step(Step::ExpectClosed),
        Scenario::server(s, "PINGs the policy's interval apart are never strikes")
            .config(policy(true))
            .handshake()
            .peer(vec![ping(b"ping-one")])
            .advance(Duration::from_secs(10))
            .peer(vec![ping(b"ping-two")])
            .advance(Duration::from_secs(10))
            .peer(vec![ping(b"ping-thr")])
            .advance(Duration::from_secs(10))
            .peer(vec![ping(b"ping-fou")])
            .expect(vec![X::ping_ack(*b"ping-fou")])
            .expect_not(X::any_goaway()),
        Scenario::server(
            s,
            "our HEADERS or DATA since the last PING clear the strikes",
        )
        .config(policy(true))
        .handshake()
        .peer(vec![
            ping(b"ping-one"),
            ping(b"ping-two"),
            ping(b"ping-thr"),
        ])
        .expect(vec![X::ping_ack(*b"ping-thr")])
        .peer(vec![P::headers(1, get("/")).eos()])
        .events(vec![E::Request(1, Some("/")), E::Ended(1)])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, bytes::Bytes::from_static(b"x"), true))
        .expect(vec![X::headers(1), X::data(1).eos()])
        .peer(vec![
            ping(b"ping-fou"),
            ping(b"ping-fiv"),
            ping(b"ping-six"),
        ])
        .expect(vec![X::ping_ack(*b"ping-six")])
        .expect_not(X::any_goaway()),
        Scenario::server(
            s,
            "without streams, PINGs under two hours apart are strikes unless permitted",
        )
        .config(policy(false))
        .handshake()
        .peer(vec![ping(b"ping-one")])
        .advance(Duration::from_secs(60))
        .peer(vec![ping(b"ping-two")])
        .advance(Duration::from_secs(60))
        .peer(vec![ping(b"ping-thr")])
        .advance(Duration::from_secs(60))
        .peer(vec![ping(b"ping-fou")])
        .expect(vec![calm()])
        .step(Step::ExpectClosed),
        server(
            s,
            "with no policy (the default) a peer may PING as often as it likes",
        )
        .peer(
            (0..20)
                .map(|i| {
                    ping(&[
                        b'p',
                        b'i',
                        b'n',
                        b'g',
                        b'-',
                        b'0',
                        b'0' + i / 10,
                        b'0' + i % 10,
                    ])
                })
                .collect(),
        )
        .expect(vec![X::ping_ack(*b"ping-019")])
        .expect_not(X::any_goaway()),
    ]
}
