//! RFC 9113 §8.4 (server push) and §6.6 (PUSH_PROMISE), in both roles: the server promises and
//! answers on the reserved stream; the client accepts, refuses or resets promises, and treats
//! promises it cannot accept as the RFC says.

use crate::dsl::{get, request, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::{Config, Header, Reason};

const PROTOCOL_ERROR: Reason = Reason::PROTOCOL_ERROR;

fn pushed_request() -> Vec<Header> {
    get("/style.css")
}

/// Server: the client asked for `/` on stream 1 and the server promised stream 2.
fn server_promised(name: &'static str) -> Scenario {
    Scenario::server("RFC 9113 §8.4", name)
        .handshake()
        .peer(vec![P::get(1, "/")])
        .events(vec![E::Request(1, Some("/"))])
        .app(A::PushPromise(1, pushed_request()))
        .expect(vec![X::push_promise(1, 2).field(":path", "/style.css")])
}

/// Client: GET / on stream 1, answered with a promise of stream 2.
fn client_promised(name: &'static str) -> Scenario {
    Scenario::client("RFC 9113 §8.4", name)
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(vec![P::push_promise(1, 2, pushed_request())])
        .events(vec![E::Field(2, ":path", "/style.css")])
}

/// Client: GET / on stream 1, then `frames` from the server, a connection error PROTOCOL_ERROR.
fn client_rejects(section: &'static str, name: &'static str, frames: Vec<P>) -> Scenario {
    Scenario::client(section, name)
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(frames)
        .expect_goaway(PROTOCOL_ERROR)
}

fn server() -> Vec<Scenario> {
    vec![
        server_promised("a server promises a response, then sends it on the promised stream")
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, Bytes::from_static(b"page"), true))
            .expect(vec![
                X::headers(1).status("200").no_eos(),
                X::data(1).body("page").eos(),
            ])
            .app(A::SendResponse(2, response("200"), false))
            .app(A::SendData(2, Bytes::from_static(b"css"), true))
            .expect(vec![
                X::headers(2).status("200").no_eos(),
                X::data(2).body("css").eos(),
            ])
            .expect_not(X::any_rst()),
        server_promised(
            "a promised response may complete before the response on its parent stream",
        )
        .app(A::SendResponse(2, response("204"), true))
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![
            X::headers(2).status("204").eos(),
            X::headers(1).status("200").eos(),
        ]),
        Scenario::server(
            "RFC 9113 §8.4",
            "a server may not push when the client set SETTINGS_ENABLE_PUSH to 0",
        )
        .handshake_with(vec![(0x2, 0)])
        .peer(vec![P::get(1, "/")])
        .app_err(A::PushPromise(1, pushed_request()))
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).status("200").eos()])
        .expect_not(X::any(h2core::frame::FrameType::PUSH_PROMISE)),
        server_promised("the client resetting a promised stream is reported as StreamReset")
            .peer(vec![P::rst(2, Reason::CANCEL)])
            .events(vec![E::Reset(2, Some(Reason::CANCEL))])
            .app_err(A::SendResponse(2, response("200"), true))
            .app(A::SendResponse(1, response("200"), true))
            .expect(vec![X::headers(1).eos()])
            .expect_not(X::any_goaway()),
        server_promised(
            "WINDOW_UPDATE and PRIORITY from the client on a reserved (local) stream are allowed",
        )
        .peer(vec![
            P::window_update(2, 1000),
            P::priority(2, 1, 20, false),
        ])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst())
        .app(A::SendResponse(2, response("200"), true))
        .expect(vec![X::headers(2).eos()]),
        Scenario::server(
            "RFC 9113 §8.4",
            "a server receiving PUSH_PROMISE treats it as a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::push_promise(1, 3, get("/"))])
        .expect_goaway(PROTOCOL_ERROR),
    ]
}

fn client() -> Vec<Scenario> {
    vec![
        client_promised(
            "a pushed response arrives as ResponseReceived on the promised stream",
        )
        .peer(vec![
            P::response(1, "200"),
            P::response(2, "200"),
            P::data(2, "css").eos(),
            P::data(1, "page").eos(),
        ])
        .events(vec![
            E::Response(1, Some("200")),
            E::Response(2, Some("200")),
            E::Data(2, Some(Bytes::from_static(b"css"))),
            E::Ended(2),
            E::Data(1, Some(Bytes::from_static(b"page"))),
            E::Ended(1),
        ])
        .expect_not(X::any_rst()),
        client_promised("a client resetting a promised stream ignores what arrives on it later")
            .app(A::Reset(2, Reason::CANCEL))
            .expect(vec![X::rst(2, Reason::CANCEL)])
            .peer(vec![
                P::response(2, "200"),
                P::data(2, "css").eos(),
                P::response(1, "200").eos(),
            ])
            .events(vec![E::Response(1, Some("200")), E::Ended(1)])
            .no_event(E::Response(2, None))
            .no_event(E::Data(2, None))
            .expect_not(X::any_goaway())
            .step(Step::ExpectOpen),
        Scenario::client(
            "RFC 9113 §6.6",
            "PUSH_PROMISE when the client disabled SETTINGS_ENABLE_PUSH is a connection error PROTOCOL_ERROR",
        )
        .config(|c| c.settings.enable_push = false)
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, pushed_request())])
        .expect_goaway(PROTOCOL_ERROR)
        .no_event(E::Pushed(1, 2)),
        Scenario::client(
            "RFC 9113 §6.6",
            "PUSH_PROMISE after the server acknowledged push disabled is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .app(A::UpdateSettings({
            let mut v = Config::client().settings;
            v.enable_push = false;
            v
        }))
        .expect(vec![X::settings().setting(0x2, 0)])
        .peer(vec![P::SettingsAck])
        .peer(vec![P::push_promise(1, 2, pushed_request())])
        .expect_goaway(PROTOCOL_ERROR),
        client_rejects(
            "RFC 9113 §6.6",
            "PUSH_PROMISE promising an odd-numbered stream is a connection error PROTOCOL_ERROR",
            vec![P::push_promise(1, 3, pushed_request())],
        ),
        client_rejects(
            "RFC 9113 §6.6",
            "PUSH_PROMISE promising a stream already promised is a connection error PROTOCOL_ERROR",
            vec![
                P::push_promise(1, 2, pushed_request()),
                P::push_promise(1, 2, get("/other.css")),
            ],
        ),
        client_rejects(
            "RFC 9113 §5.1.1",
            "PUSH_PROMISE promising a stream below one already promised is a connection error PROTOCOL_ERROR",
            vec![
                P::push_promise(1, 4, pushed_request()),
                P::push_promise(1, 2, get("/other.css")),
            ],
        ),
        client_rejects(
            "RFC 9113 §6.6",
            "PUSH_PROMISE on a stream the client did not open is a connection error PROTOCOL_ERROR",
            vec![P::push_promise(3, 2, pushed_request())],
        ),
        client_rejects(
            "RFC 9113 §5.1",
            "DATA on a reserved (remote) stream before its HEADERS is a connection error PROTOCOL_ERROR",
            vec![
                P::push_promise(1, 2, pushed_request()),
                P::data(2, "early"),
            ],
        ),
        Scenario::client(
            "RFC 9113 §8.4",
            "a promised request that is not safe is a stream error PROTOCOL_ERROR on the promised stream",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, request("POST", "/form"))])
        .expect_rst(2, PROTOCOL_ERROR)
        .no_event(E::Pushed(1, 2))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)]),
    ]
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = server();
    v.extend(client());
    v
}
