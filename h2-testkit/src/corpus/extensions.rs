//! RFC 9113 §5.5: extension frames and settings. Unknown frame types are handed to the
//! application and otherwise ignored, except inside a header block (§6.10); the application can
//! send its own extension frames.

use crate::dsl::{get, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::frame::FrameType;
use h2core::Reason;

/// The pattern for an extension frame of `kind` on `stream` carrying `payload`.
fn extension(kind: u8, stream: u32, payload: &'static str) -> X {
    X {
        stream: Some(stream),
        data: Some(Bytes::from_static(payload.as_bytes())),
        ..X::any(FrameType(kind))
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §5.5",
            "an unknown frame type is delivered as ExtensionFrameReceived and otherwise ignored",
        )
        .handshake()
        .peer(vec![
            P::raw_frame(0xfa, 0xff, 0, Bytes::from_static(b"hello")),
            P::ping(*b"afterext"),
        ])
        .events(vec![E::Extension(0xfa)])
        .expect(vec![X::ping_ack(*b"afterext")])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        Scenario::server(
            "RFC 9113 §5.5",
            "an unknown frame on an idle stream neither opens nor closes streams",
        )
        .handshake()
        .peer(vec![
            P::raw_frame(0xfb, 0, 7, Bytes::from_static(b"x")),
            P::get(1, "/"),
        ])
        .events(vec![E::Extension(0xfb), E::Request(1, Some("/"))])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst()),
        Scenario::server(
            "RFC 9113 §5.5",
            "an unknown frame between HEADERS and CONTINUATION is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![
            P::headers(1, get("/")).eos().no_end_headers(),
            P::raw_frame(0xfa, 0, 1, Bytes::from_static(b"x")),
            P::continuation(1, vec![], true),
        ])
        .expect_goaway(Reason::PROTOCOL_ERROR)
        .no_event(E::Request(1, None)),
        Scenario::client(
            "RFC 9113 §5.5",
            "a client delivers an unknown frame on its stream and goes on with the response",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::response(1, "200"),
            P::raw_frame(0xfc, 0x1, 1, Bytes::from_static(b"meta")),
            P::data(1, "body").eos(),
        ])
        .events(vec![
            E::Response(1, Some("200")),
            E::Extension(0xfc),
            E::Data(1, Some(Bytes::from_static(b"body"))),
            E::Ended(1),
        ])
        .expect_not(X::any_rst()),
        Scenario::server(
            "RFC 9113 §5.5",
            "the application can send an extension frame on the connection",
        )
        .handshake()
        .app(A::SendExtension(0xfa, 0x1, 0, Bytes::from_static(b"abc")))
        .expect(vec![extension(0xfa, 0, "abc")]),
        Scenario::client(
            "RFC 9113 §5.5",
            "the application can send an extension frame on a stream",
        )
        .handshake()
        .app(A::SendRequest(get("/"), false))
        .app(A::SendExtension(0xfb, 0, 1, Bytes::from_static(b"ext")))
        .expect(vec![X::headers(1), extension(0xfb, 1, "ext")]),
        Scenario::client(
            "RFC 9113 §5.5",
            "a frame of a type the library implements cannot be sent as an extension frame",
        )
        .handshake()
        .app_err(A::SendExtension(0x0, 0, 1, Bytes::from_static(b"x")))
        .app_err(A::SendExtension(0x10, 0, 0, Bytes::from_static(b"x"))),
        Scenario::server(
            "RFC 9113 §4.2",
            "an extension frame larger than the peer's SETTINGS_MAX_FRAME_SIZE is refused",
        )
        .handshake()
        .app_err(A::SendExtension(
            0xfa,
            0,
            0,
            Bytes::from(vec![0u8; 16_385]),
        )),
        Scenario::server(
            "RFC 9113 §6.5.2",
            "an unknown SETTINGS identifier is ignored",
        )
        .handshake_with(vec![(0xff00, 7), (0x0a0a, 1)])
        .peer(vec![P::get(1, "/")])
        .events(vec![E::Request(1, Some("/"))])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9113 §4.1",
            "flags a frame type does not define are ignored",
        )
        .handshake()
        .peer(vec![P::raw_frame(
            0x6,
            0xfe,
            0,
            Bytes::from_static(b"flagsxyz"),
        )])
        .expect(vec![X::ping_ack(*b"flagsxyz")])
        .expect_not(X::any_goaway()),
    ]
}
