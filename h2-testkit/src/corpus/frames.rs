//! RFC 9113 §4 (frame format, frame size, field section compression), §5.5 (extensions) and
//! the per-frame rules of §6.1 DATA, §6.2 HEADERS, §6.3 PRIORITY and §6.4 RST_STREAM.

use crate::dsl::{get, hdrs, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::frame::FrameType;
use h2core::Reason;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// A GET request for `/` from the static table only (no HPACK state change), so it can be
/// framed by hand: `:method GET`, `:scheme http`, `:path /`, `:authority localhost` (literal
/// without indexing).
pub(super) fn static_get_block() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 0x09];
    b.extend_from_slice(b"localhost");
    b
}

/// The same with `:method POST`.
pub(super) fn static_post_block() -> Vec<u8> {
    let mut b = static_get_block();
    b[0] = 0x83;
    b
}

/// A server past the handshake.
pub(super) fn server(section: &'static str, name: &'static str) -> Scenario {
    Scenario::server(section, name).handshake()
}

/// A client past the handshake.
pub(super) fn client(section: &'static str, name: &'static str) -> Scenario {
    Scenario::client(section, name).handshake()
}

/// RST_STREAM on `stream`, any code.
pub(super) fn rst_on(stream: u32) -> X {
    X {
        stream: Some(stream),
        ..X::any(FrameType::RST_STREAM)
    }
}

/// `n` octets of payload.
pub(super) fn body(n: usize) -> Bytes {
    Bytes::from(vec![b'x'; n])
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = frame_format();
    v.extend(frame_size());
    v.extend(compression());
    v.extend(extensions());
    v.extend(data());
    v.extend(headers());
    v.extend(priority());
    v.extend(rst_stream());
    v
}

fn frame_format() -> Vec<Scenario> {
    let s = "RFC 9113 §4.1";
    vec![
        server(
            s,
            "flags a frame type does not define are ignored on receipt (HEADERS)",
        )
        .peer(vec![P::raw_frame(
            0x1,
            END_STREAM | END_HEADERS | 0x2 | 0x10 | 0x40 | 0x80,
            1,
            static_get_block(),
        )])
        .events(vec![E::Request(1, Some("/")), E::Ended(1)])
        .expect_not(X::any_goaway()),
        server(
            s,
            "the reserved bit of the stream identifier is ignored on receipt",
        )
        .peer(vec![P::raw_frame(
            0x1,
            END_STREAM | END_HEADERS,
            0x8000_0001,
            static_get_block(),
        )])
        .events(vec![E::Request(1, Some("/"))])
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).status("200").eos()]),
        server(
            s,
            "DATA whose stream identifier has the reserved bit set counts for that stream",
        )
        .peer(vec![
            P::raw_frame(0x1, END_HEADERS, 1, static_post_block()),
            P::raw_frame(0x0, END_STREAM, 0x8000_0001, b"body".to_vec()),
        ])
        .events(vec![
            E::Request(1, None),
            E::Data(1, Some(Bytes::from_static(b"body"))),
            E::Ended(1),
        ])
        .expect_not(X::any_goaway()),
    ]
}

fn frame_size() -> Vec<Scenario> {
    let s = "RFC 9113 §4.2";
    vec![
        server(s, "a DATA frame of 2^14 octets is received and processed")
            .peer(vec![
                P::request(1, "POST", "/"),
                P::data(1, body(16_384)).eos(),
            ])
            .events(vec![E::Request(1, None), E::Data(1, None), E::Ended(1)])
            .expect_not(X::any_goaway())
            .step(Step::ExpectOpen),
        server(
            s,
            "a DATA frame above SETTINGS_MAX_FRAME_SIZE is FRAME_SIZE_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, body(16_385)).eos(),
        ])
        .no_event(E::Data(1, None))
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "a HEADERS frame above SETTINGS_MAX_FRAME_SIZE is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x1, END_HEADERS, 1, vec![0x82; 16_385])])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        Scenario::server(
            s,
            "frames up to our SETTINGS_MAX_FRAME_SIZE are accepted once it is acknowledged",
        )
        .config(|c| c.settings.max_frame_size = 32_768)
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            P::data(1, body(32_768)).eos(),
        ])
        .events(vec![E::Request(1, None), E::Data(1, None), E::Ended(1)])
        .expect_not(X::any_goaway()),
        server(
            s,
            "we never send a frame larger than the peer's SETTINGS_MAX_FRAME_SIZE (default 2^14)",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(40_000), true))
        .expect(vec![
            X::data(1).len(16_384).no_eos(),
            X::data(1).len(16_384).no_eos(),
            X::data(1).len(7_232).eos(),
        ]),
        Scenario::server(
            s,
            "a larger SETTINGS_MAX_FRAME_SIZE from the peer lets us send larger frames",
        )
        .handshake_with(vec![(0x5, 32_768)])
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, body(40_000), true))
        .expect(vec![
            X::data(1).len(32_768).no_eos(),
            X::data(1).len(7_232).eos(),
        ]),
        server(
            s,
            "a HEADERS frame too short for its priority fields is FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(
            0x1,
            END_HEADERS | PRIORITY,
            1,
            vec![0, 0, 0],
        )])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "a PADDED HEADERS frame too short for its Pad Length is FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x1, END_HEADERS | PADDED, 1, vec![])])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "a PADDED DATA frame too short for its Pad Length is FRAME_SIZE_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::raw_frame(0x0, PADDED, 1, vec![]),
        ])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
    ]
}

fn compression() -> Vec<Scenario> {
    let s = "RFC 9113 §4.3";
    let with = |path: &str, extra: &[(&str, &str)]| {
        let mut h = get(path);
        h.extend(hdrs(extra));
        h
    };
    vec![
        server(
            s,
            "a field block that cannot be decoded is a connection error COMPRESSION_ERROR",
        )
        .peer(vec![P::headers(1, vec![]).eos().raw_block(vec![0x80])])
        .no_event(E::Request(1, None))
        .expect_goaway(Reason::COMPRESSION_ERROR),
        Scenario::server(
            s,
            "the field block of a refused stream is still decoded, keeping HPACK in sync",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(1))
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            P::headers(3, with("/refused", &[("x-sync", "abc")])).eos(),
        ])
        .expect(vec![X::rst(3, Reason::REFUSED_STREAM)])
        .no_event(E::Request(3, None))
        .peer(vec![P::data(1, "").eos()])
        .app(A::SendResponse(1, response("200"), true))
        .peer(vec![
            P::headers(5, with("/next", &[("x-sync", "abc")])).eos()
        ])
        .events(vec![E::Field(5, "x-sync", "abc")])
        .expect_not(X::any_goaway()),
        server(
            s,
            "a field block on a stream we reset is still decoded, keeping HPACK in sync",
        )
        .peer(vec![P::request(1, "POST", "/")])
        .app(A::Reset(1, Reason::CANCEL))
        .expect(vec![X::rst(1, Reason::CANCEL)])
        .peer(vec![
            P::headers(1, hdrs(&[("x-late", "trailer")])).eos(),
            P::headers(3, with("/after", &[("x-late", "trailer")])).eos(),
        ])
        .no_event(E::Trailers(1))
        .events(vec![E::Field(3, "x-late", "trailer")])
        .expect_not(X::any_goaway()),
    ]
}

fn extensions() -> Vec<Scenario> {
    let s = "RFC 9113 §7";
    vec![server(
        s,
        "an unknown error code in RST_STREAM triggers no special behavior",
    )
    .peer(vec![
        P::request(1, "POST", "/"),
        P::rst(1, Reason(0xff)),
        P::ping([0; 8]),
    ])
    .events(vec![E::Reset(1, Some(Reason(0xff)))])
    .expect(vec![X::ping_ack([0; 8])])
    .expect_not(X::any_goaway())
    .expect_not(X::any_rst())]
}

fn data() -> Vec<Scenario> {
    let s = "RFC 9113 §6.1";
    vec![
        server(s, "DATA on stream 0 is a connection error PROTOCOL_ERROR")
            .peer(vec![P::raw_frame(0x0, END_STREAM, 0, b"data".to_vec())])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "DATA whose padding is as long as the payload is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::raw_frame(0x0, PADDED | END_STREAM, 1, vec![5, b'a', b'b', 0, 0]),
        ])
        .no_event(E::Data(1, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "padded DATA delivers the data without its padding")
            .peer(vec![
                P::request(1, "POST", "/"),
                P::data(1, "hello").padded(10).eos(),
            ])
            .events(vec![
                E::Data(1, Some(Bytes::from_static(b"hello"))),
                E::Ended(1),
            ]),
        server(s, "DATA made only of padding is legal")
            .peer(vec![
                P::request(1, "POST", "/"),
                P::data(1, "").padded(20),
                P::data(1, "x").eos(),
            ])
            .events(vec![
                E::Data(1, Some(Bytes::new())),
                E::Data(1, Some(Bytes::from_static(b"x"))),
                E::Ended(1),
            ])
            .expect_not(X::any_goaway()),
        server(s, "an empty DATA frame with END_STREAM ends the stream")
            .peer(vec![P::request(1, "POST", "/"), P::data(1, "").eos()])
            .events(vec![E::Request(1, None), E::Ended(1)]),
        server(s, "no DATA can follow END_STREAM on a stream")
            .peer(vec![P::get(1, "/")])
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, Bytes::from_static(b"last"), true))
            .app_err(A::SendData(1, Bytes::from_static(b"more"), false))
            .expect(vec![X::data(1).body("last").eos()]),
    ]
}

fn headers() -> Vec<Scenario> {
    let s = "RFC 9113 §6.2";
    vec![
        server(
            s,
            "HEADERS on stream 0 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::raw_frame(
            0x1,
            END_STREAM | END_HEADERS,
            0,
            static_get_block(),
        )])
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "HEADERS whose padding exceeds its payload is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::raw_frame(
            0x1,
            END_STREAM | END_HEADERS | PADDED,
            1,
            {
                let mut b = vec![200];
                b.extend(static_get_block());
                b
            },
        )])
        .no_event(E::Request(1, None))
        .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "padded HEADERS is processed without its padding")
            .peer(vec![P::get(1, "/padded").padded(32)])
            .events(vec![E::Request(1, Some("/padded")), E::Ended(1)]),
        server(s, "HEADERS with priority fields and padding is processed")
            .peer(vec![P::get(1, "/prio")
                .with_priority(0, 200, true)
                .padded(3)])
            .events(vec![E::Request(1, Some("/prio")), E::Ended(1)])
            .expect_not(X::any_rst()),
        client(
            s,
            "END_STREAM on HEADERS ends the stream: a response without content",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "204").eos()])
        .events(vec![E::Response(1, Some("204")), E::Ended(1)]),
    ]
}

fn priority() -> Vec<Scenario> {
    let s = "RFC 9113 §6.3";
    vec![
        server(s, "PRIORITY on stream 0 is a connection error PROTOCOL_ERROR")
            .peer(vec![P::priority(0, 0, 255, false)])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "PRIORITY with a length other than 5 is a stream error FRAME_SIZE_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::raw_frame(0x2, 0, 1, vec![0x80, 0, 0, 1]),
        ])
        .events(vec![E::Reset(1, Some(Reason::FRAME_SIZE_ERROR))])
        .expect_rst(1, Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "PRIORITY of the wrong length on an idle stream, which cannot be reset, fails the connection with FRAME_SIZE_ERROR",
        )
        .peer(vec![P::raw_frame(0x2, 0, 1, vec![0, 0, 0, 0, 0, 0])])
        .expect_not(X::any_rst())
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
    ]
}

fn rst_stream() -> Vec<Scenario> {
    let s = "RFC 9113 §6.4";
    vec![
        server(s, "RST_STREAM on stream 0 is a connection error PROTOCOL_ERROR")
            .peer(vec![P::rst(0, Reason::CANCEL)])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(s, "RST_STREAM on an idle stream is a connection error PROTOCOL_ERROR")
            .peer(vec![P::rst(1, Reason::CANCEL)])
            .expect_goaway(Reason::PROTOCOL_ERROR),
        server(
            s,
            "RST_STREAM with a length other than 4 is a connection error FRAME_SIZE_ERROR",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::raw_frame(0x3, 0, 1, vec![0, 0, 0]),
        ])
        .expect_goaway(Reason::FRAME_SIZE_ERROR),
        server(
            s,
            "RST_STREAM closes the stream: the application learns it and nothing more is sent on it",
        )
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .peer(vec![P::rst(1, Reason::CANCEL)])
        .events(vec![E::Reset(1, Some(Reason::CANCEL))])
        .app_err(A::SendData(1, Bytes::from_static(b"late"), true))
        .expect_not(X::data(1))
        .expect_not(X::any_rst()),
        server(
            s,
            "RST_STREAM is never sent in answer to RST_STREAM, even on a closed stream",
        )
        .peer(vec![
            P::request(1, "POST", "/"),
            P::rst(1, Reason::CANCEL),
            P::rst(1, Reason::CANCEL),
        ])
        .events(vec![E::Reset(1, Some(Reason::CANCEL))])
        .expect_not(X::any_rst())
        .expect_not(X::any_goaway()),
    ]
}
