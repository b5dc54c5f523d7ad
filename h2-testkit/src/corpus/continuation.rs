//! RFC 9113 §6.10 CONTINUATION and §4.3 (a field block is a contiguous run of frames), both
//! roles, plus the CONTINUATION flood limit (§10.5).

use super::frames::{body, client, server};
use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario};
use h2core::Reason;

const S: &str = "RFC 9113 §6.10";

/// A server that received the start of a request header block on stream 1 (no END_HEADERS).
fn open_block(name: &'static str) -> Scenario {
    server(S, name)
        .peer(vec![P::get(1, "/").no_end_headers()])
        .no_event(E::Request(1, None))
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let interleaved = |name: &'static str, frame: P| {
        open_block(name)
            .peer(vec![frame])
            .no_event(E::Request(1, None))
            .expect_goaway(Reason::PROTOCOL_ERROR)
    };
    vec![
        server(S, "a header block split over several CONTINUATION frames is one request")
            .peer(vec![P::get(1, "/split").pieces(5)])
            .events(vec![E::Request(1, Some("/split")), E::Ended(1)])
            .expect_not(X::any_goaway()),
        open_block(
            "END_STREAM on the HEADERS takes effect once the CONTINUATION with END_HEADERS arrives",
        )
        .peer(vec![P::continuation(1, hdrs(&[("x-more", "1")]), true)])
        .events(vec![E::Field(1, "x-more", "1"), E::Ended(1)]),
        open_block("empty CONTINUATION frames inside a header block are legal")
            .peer(vec![
                P::continuation(1, vec![], false),
                P::continuation(1, vec![], false),
                P::continuation(1, hdrs(&[("x-end", "1")]), true),
            ])
            .events(vec![E::Request(1, Some("/")), E::Ended(1)])
            .expect_not(X::any_goaway()),
        interleaved(
            "DATA inside a header block is a connection error PROTOCOL_ERROR",
            P::data(1, "x"),
        ),
        interleaved(
            "PRIORITY inside a header block is a connection error PROTOCOL_ERROR",
            P::priority(1, 0, 16, false),
        ),
        interleaved(
            "PING inside a header block is a connection error PROTOCOL_ERROR",
            P::ping([0; 8]),
        ),
        interleaved(
            "SETTINGS inside a header block is a connection error PROTOCOL_ERROR",
            P::settings(vec![]),
        ),
        interleaved(
            "WINDOW_UPDATE inside a header block is a connection error PROTOCOL_ERROR",
            P::window_update(0, 100),
        ),
        interleaved(
            "RST_STREAM inside a header block is a connection error PROTOCOL_ERROR",
            P::rst(1, Reason::CANCEL),
        ),
        interleaved(
            "HEADERS of another stream inside a header block is a connection error PROTOCOL_ERROR",
            P::get(3, "/"),
        ),
        interleaved(
            "CONTINUATION of another stream inside a header block is a connection error PROTOCOL_ERROR",
            P::continuation(3, hdrs(&[("x", "y")]), true),
        ),
        interleaved(
            "CONTINUATION on stream 0 is a connection error PROTOCOL_ERROR",
            P::raw_frame(0x9, 0x4, 0, vec![0x82]),
        ),
        server(
            S,
            "CONTINUATION after a HEADERS that had END_HEADERS is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::continuation(1, hdrs(&[("x", "y")]), true),
        ])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        open_block(
            "CONTINUATION after a CONTINUATION that had END_HEADERS is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![
            P::continuation(1, hdrs(&[("x-a", "1")]), true),
            P::continuation(1, hdrs(&[("x-b", "2")]), true),
        ])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            S,
            "CONTINUATION after DATA is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, "x"),
            P::continuation(1, hdrs(&[("x", "y")]), true),
        ])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(S, "trailers may be split over CONTINUATION frames")
            .peer(vec![
                P::request(1, "POST", "/"),
                P::data(1, "x"),
                P::headers(1, hdrs(&[("x-t1", "a"), ("x-t2", "b"), ("x-t3", "c")]))
                    .eos()
                    .pieces(3),
            ])
            .events(vec![E::Field(1, "x-t3", "c"), E::Ended(1)]),
        server(
            S,
            "a padded HEADERS with priority fields may continue in CONTINUATION frames",
        )
        .peer(vec![P::get(1, "/pp")
            .with_priority(0, 10, false)
            .padded(5)
            .pieces(2)])
        .events(vec![E::Request(1, Some("/pp"))])
        .expect_not(X::any_goaway()),
        client(S, "a response header block may continue in CONTINUATION frames")
            .app(A::SendRequest(get("/"), true))
            .peer(vec![P::headers(1, {
                let mut h = response("200");
                h.extend(hdrs(&[("x-a", "1"), ("x-b", "2")]));
                h
            })
            .eos()
            .pieces(3)])
            .events(vec![E::Field(1, "x-b", "2"), E::Ended(1)]),
        client(
            S,
            "a frame inside a response header block is a connection error PROTOCOL_ERROR",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "200").no_end_headers(), P::ping([9; 8])])
        .expect_not(X::ping_ack([9; 8]))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        client(
            S,
            "a frame inside a PUSH_PROMISE header block is a connection error PROTOCOL_ERROR",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::push_promise(1, 2, get("/p")).no_end_headers(),
            P::window_update(0, 10),
        ])
        .no_event(E::Pushed(1, 2))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            S,
            "our header block larger than SETTINGS_MAX_FRAME_SIZE goes as HEADERS and CONTINUATION, uninterrupted",
        )
        .peer(vec![P::get(1, "/"), P::get(3, "/")])
        .app(A::SendResponse(3, response("200"), false))
        .app(A::SendData(3, body(100_000), true))
        .app(A::SendResponse(
            1,
            {
                let mut h = response("200");
                h.extend(hdrs(&[("x-big", &"~".repeat(40_000))]));
                h
            },
            true,
        ))
        .expect(vec![X::headers(1).eos().field("x-big", &"~".repeat(40_000))]),
        Scenario::server(
            "RFC 9113 §10.5",
            "a header block in more CONTINUATION frames than our limit is ENHANCE_YOUR_CALM",
        )
        .config(|c| c.limits.max_continuation_frames = 4)
        .handshake()
        .peer(vec![P::get(1, "/").pieces(6)])
        .no_event(E::Request(1, None))
        .expect_goaway(Reason::ENHANCE_YOUR_CALM),
    ]
}
