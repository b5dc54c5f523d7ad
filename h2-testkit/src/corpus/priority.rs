//! Priorities: RFC 7540 §5.3 signals (PRIORITY frames, HEADERS priority fields) that RFC 9113
//! §5.3.2 still requires to be accepted in any stream state, and the RFC 9218 scheme (`priority`
//! header, PRIORITY_UPDATE, SETTINGS_NO_RFC7540_PRIORITIES). A priority signal is advice: it
//! never stalls a stream nor breaks the connection.

use crate::dsl::{get, plus, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::{BufMut, Bytes, BytesMut};
use h2core::frame::FrameType;
use h2core::Reason;

const PROTOCOL_ERROR: Reason = Reason::PROTOCOL_ERROR;

/// Server: answers stream `id` with a 200 and `body`, ending the stream.
fn respond(s: Scenario, id: u32, body: &'static str) -> Scenario {
    s.app(A::SendResponse(id, response("200"), false))
        .app(A::SendData(id, Bytes::from_static(body.as_bytes()), true))
}

/// A request for `/` with a `priority` field.
fn get_with_priority(value: &str) -> Vec<h2core::Header> {
    plus(get("/"), &[("priority", value)])
}

/// Server in RFC 9218 mode (both sides sent SETTINGS_NO_RFC7540_PRIORITIES = 1), with the
/// client's stream windows at 0 so responses queue up until the client opens them all at once.
fn rfc9218_server(name: &'static str) -> Scenario {
    Scenario::server("RFC 9218 §10", name)
        .config(|c| c.settings.no_rfc7540_priorities = true)
        .handshake_with(vec![(0x9, 1), (0x4, 0)])
}

/// The client opens every stream window at once (SETTINGS_INITIAL_WINDOW_SIZE 0 → 100).
fn open_windows(s: Scenario) -> Scenario {
    s.expect_not(X::any(FrameType::DATA))
        .peer(vec![P::settings(vec![(0x4, 100)])])
}

fn rfc7540() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §6.3",
            "PRIORITY on an idle stream is accepted and does not open it",
        )
        .handshake()
        .peer(vec![P::priority(3, 0, 200, false), P::get(1, "/")])
        .events(vec![E::Request(1, Some("/"))])
        .peer(vec![P::get(3, "/three")])
        .events(vec![E::Request(3, Some("/three"))])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst()),
        respond(
            Scenario::server(
                "RFC 9113 §6.3",
                "PRIORITY on a closed stream is accepted",
            )
            .handshake()
            .peer(vec![P::get(1, "/")]),
            1,
            "done",
        )
        .expect(vec![X::data(1).eos()])
        .peer(vec![P::priority(1, 0, 10, true), P::get(3, "/")])
        .events(vec![E::Request(3, Some("/"))])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst()),
        respond(
            Scenario::server(
                "RFC 9113 §6.3",
                "PRIORITY on a half-closed (remote) stream is accepted and the response still goes out",
            )
            .handshake()
            .peer(vec![P::get(1, "/"), P::priority(1, 0, 255, true)]),
            1,
            "body",
        )
        .expect(vec![X::data(1).body("body").eos()])
        .expect_not(X::any_rst()),
        respond(
            Scenario::server(
                "RFC 9113 §5.3.2",
                "a HEADERS priority depending on a stream that does not exist never stalls the response",
            )
            .handshake()
            .peer(vec![P::get(1, "/").with_priority(99, 255, true)])
            .events(vec![E::Request(1, Some("/"))]),
            1,
            "body",
        )
        .expect(vec![X::data(1).body("body").eos()]),
        respond(
            respond(
                Scenario::server(
                    "RFC 9113 §5.3.2",
                    "a dependency on a closed stream never stalls the response",
                )
                .handshake()
                .peer(vec![P::get(1, "/")]),
                1,
                "first",
            )
            .peer(vec![P::get(3, "/").with_priority(1, 15, true)]),
            3,
            "second",
        )
        .expect(vec![X::data(1).eos(), X::data(3).body("second").eos()]),
        respond(
            respond(
                Scenario::server(
                    "RFC 9113 §5.3.2",
                    "a stream depending on a stream blocked by flow control still sends",
                )
                .handshake_with(vec![(0x4, 0)])
                .peer(vec![
                    P::get(1, "/"),
                    P::get(3, "/"),
                    P::priority(3, 1, 15, true),
                ]),
                1,
                "parent",
            ),
            3,
            "child",
        )
        .expect_not(X::any(FrameType::DATA))
        .peer(vec![P::window_update(3, 100)])
        .expect(vec![X::data(3).body("child").eos()])
        .expect_not(X::data(1)),
        Scenario::server(
            "RFC 9113 §5.3.1",
            "a HEADERS frame making its stream depend on itself is a stream error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::get(1, "/").with_priority(1, 255, false)])
        .expect_rst(1, PROTOCOL_ERROR)
        .no_event(E::Request(1, None))
        .peer(vec![P::get(3, "/")])
        .events(vec![E::Request(3, Some("/"))]),
        Scenario::server(
            "RFC 9113 §5.3.1",
            "a PRIORITY frame making an open stream depend on itself is a stream error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::priority(1, 1, 15, false)])
        .expect_rst(1, PROTOCOL_ERROR),
        Scenario::client(
            "RFC 9113 §6.3",
            "a client sends PRIORITY for its stream with set_priority",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .app(A::SetPriority(1, 0, 200, true))
        .expect(vec![
            X::headers(1),
            X {
                stream: Some(1),
                ..X::any(FrameType::PRIORITY)
            },
        ]),
        Scenario::client(
            "RFC 9113 §6.3",
            "a client accepts PRIORITY frames from the server",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::priority(1, 0, 10, false), P::priority(7, 0, 10, false)])
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)])
        .expect_not(X::any_goaway()),
    ]
}

/// A PRIORITY_UPDATE frame with an arbitrary frame stream (to break §7.1's stream-0 rule).
fn priority_update_on(stream: u32, prioritized: u32, value: &str) -> P {
    let mut p = BytesMut::new();
    p.put_u32(prioritized);
    p.put_slice(value.as_bytes());
    P::raw_frame(0x10, 0, stream, p.freeze())
}

fn rfc9218() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9218 §2.1",
            "a server configured for RFC 9218 announces SETTINGS_NO_RFC7540_PRIORITIES = 1",
        )
        .config(|c| c.settings.no_rfc7540_priorities = true)
        .peer(vec![P::Preface, P::settings(vec![(0x9, 1)])])
        .expect(vec![X::settings().setting(0x9, 1), X::settings_ack()]),
        Scenario::server(
            "RFC 9218 §2.1",
            "SETTINGS_NO_RFC7540_PRIORITIES other than 0 or 1 is a connection error PROTOCOL_ERROR",
        )
        .peer(vec![P::Preface, P::settings(vec![(0x9, 2)])])
        .expect_goaway(PROTOCOL_ERROR),
        open_windows(
            respond(
                respond(
                    rfc9218_server(
                        "the response with the more urgent priority field goes first",
                    )
                    .peer(vec![
                        P::headers(1, get_with_priority("u=5")).eos(),
                        P::headers(3, get_with_priority("u=0")).eos(),
                    ]),
                    1,
                    "later",
                ),
                3,
                "urgent",
            ),
        )
        .expect(vec![X::data(3).body("urgent"), X::data(1).body("later")]),
        open_windows(
            respond(
                respond(
                    rfc9218_server("a PRIORITY_UPDATE from the client reorders responses")
                        .peer(vec![P::get(1, "/"), P::get(3, "/")])
                        .peer(vec![P::priority_update(1, "u=0")])
                        .events(vec![E::PriorityUpdated(1, 0)]),
                    3,
                    "later",
                ),
                1,
                "urgent",
            ),
        )
        .expect(vec![X::data(1).body("urgent"), X::data(3).body("later")]),
        open_windows(
            respond(
                respond(
                    rfc9218_server(
                        "with SETTINGS_NO_RFC7540_PRIORITIES exchanged, PRIORITY frames are accepted and ignored",
                    )
                    .peer(vec![
                        P::headers(1, get_with_priority("u=0")).eos(),
                        P::headers(3, get_with_priority("u=6")).eos(),
                        // RFC 7540 would make 1 wait for 3; RFC 9218 urgency decides.
                        P::priority(1, 3, 255, true),
                    ]),
                    3,
                    "later",
                ),
                1,
                "urgent",
            ),
        )
        .expect(vec![X::data(1).body("urgent"), X::data(3).body("later")])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE from the client is reported as PriorityUpdated",
        )
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::priority_update(1, "u=1, i")])
        .events(vec![E::Request(1, Some("/")), E::PriorityUpdated(1, 1)])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE for an idle stream is accepted; the request then opens it",
        )
        .handshake()
        .peer(vec![P::priority_update(3, "u=0"), P::get(3, "/")])
        .events(vec![E::PriorityUpdated(3, 0), E::Request(3, Some("/"))])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst()),
        Scenario::server(
            "RFC 9218 §7.1",
            "a PRIORITY_UPDATE with an unparsable field value is not an error",
        )
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::priority_update(1, "u=?!(")])
        .events(vec![E::Request(1, Some("/"))])
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst())
        .step(Step::ExpectOpen),
        Scenario::server(
            "RFC 9218 §7.1",
            "a client may reprioritize a push stream with PRIORITY_UPDATE",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app(A::PushPromise(1, get("/style.css")))
        .expect(vec![X::push_promise(1, 2)])
        .peer(vec![P::priority_update(2, "u=1")])
        .events(vec![E::PriorityUpdated(2, 1)])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE for a push stream in the idle state is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::priority_update(4, "u=1")])
        .expect_goaway(PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE on a stream other than 0 is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/"),
            priority_update_on(1, 1, "u=1"),
        ])
        .expect_goaway(PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE prioritizing stream 0 is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::priority_update(0, "u=1")])
        .expect_goaway(PROTOCOL_ERROR),
        Scenario::client(
            "RFC 9218 §7.1",
            "a client receiving PRIORITY_UPDATE treats it as a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::priority_update(1, "u=0")])
        .expect_goaway(PROTOCOL_ERROR),
    ]
}

/// Server: answers stream `id` with a 200 and `len` bytes, ending the stream.
fn respond_len(s: Scenario, id: u32, len: usize) -> Scenario {
    s.app(A::SendResponse(id, response("200"), false))
        .app(A::SendData(id, Bytes::from(vec![b'x'; len]), true))
}

/// A server with its default configuration (RFC 9218 announced), the client's stream windows
/// at 0 and its SETTINGS without SETTINGS_NO_RFC7540_PRIORITIES: what most browsers send.
fn default_server(name: &'static str) -> Scenario {
    Scenario::server("RFC 9218 §2.1, §10", name).handshake_with(vec![(0x4, 0)])
}

/// The client opens every stream window wide enough for two frames of 16,384 bytes.
fn open_windows_wide(s: Scenario) -> Scenario {
    s.expect_not(X::any(FrameType::DATA))
        .peer(vec![P::settings(vec![(0x4, 40_000)])])
}

/// Two 20,000-byte responses on streams 1 and 3 with these `priority` fields, sent once the
/// client opens its windows: each goes as a 16,384-byte frame and a 3,616-byte one.
fn two_responses(name: &'static str, one: &str, three: &str) -> Scenario {
    open_windows_wide(respond_len(
        respond_len(
            default_server(name).peer(vec![
                P::headers(1, get_with_priority(one)).eos(),
                P::headers(3, get_with_priority(three)).eos(),
            ]),
            1,
            20_000,
        ),
        3,
        20_000,
    ))
}

/// RFC 9218 as the default: what a server and a client announce and do without any
/// configuration.
fn rfc9218_default() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9218 §2.1",
            "a server announces SETTINGS_NO_RFC7540_PRIORITIES = 1 by default, in its first SETTINGS",
        )
        .peer(vec![P::Preface, P::settings(vec![])])
        .expect(vec![
            X::settings().exactly(vec![
                (0x2, 0),
                (0x3, 100),
                (0x4, 1 << 20),
                (0x6, 64 * 1024),
                (0x9, 1),
            ]),
            X::settings_ack(),
        ]),
        Scenario::client(
            "RFC 9218 §2.1",
            "a client does not announce SETTINGS_NO_RFC7540_PRIORITIES by default",
        )
        .peer(vec![P::settings(vec![])])
        .expect(vec![
            X::settings().exactly(vec![(0x3, 100), (0x4, 1 << 20), (0x6, 64 * 1024)]),
            X::settings_ack(),
        ]),
        Scenario::server(
            "RFC 9218 §2.1",
            "changing SETTINGS_NO_RFC7540_PRIORITIES after the first SETTINGS is a connection error PROTOCOL_ERROR",
        )
        .handshake()
        .peer(vec![P::settings(vec![(0x9, 1)])])
        .expect_goaway(PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9218 §2.1",
            "repeating SETTINGS_NO_RFC7540_PRIORITIES with its first value is accepted",
        )
        .handshake_with(vec![(0x9, 1)])
        .peer(vec![P::settings(vec![(0x9, 1)])])
        .expect(vec![X::settings_ack()])
        .expect_not(X::any_goaway()),
        Scenario::server(
            "RFC 9218 §2.1",
            "update_settings cannot change SETTINGS_NO_RFC7540_PRIORITIES",
        )
        .handshake()
        .app_err(A::UpdateSettings({
            let mut v = h2core::Config::server().settings;
            v.no_rfc7540_priorities = false;
            v
        }))
        .expect_not(X::settings()),
        open_windows(respond(
            respond(
                respond(
                    default_server("the urgency-0 response gets DATA before the urgency-3 ones")
                        .peer(vec![
                            P::get(1, "/"),
                            P::headers(3, get_with_priority("u=3")).eos(),
                            P::headers(5, get_with_priority("u=0")).eos(),
                        ]),
                    1,
                    "bulk1",
                ),
                3,
                "bulk3",
            ),
            5,
            "urgent",
        ))
        .expect(vec![
            X::data(5).body("urgent").eos(),
            X::data(1).body("bulk1").eos(),
            X::data(3).body("bulk3").eos(),
        ]),
        open_windows(respond(
            respond(
                default_server("a PRIORITY_UPDATE from the client reorders what the server sends")
                    .peer(vec![P::get(1, "/"), P::get(3, "/")])
                    .peer(vec![P::priority_update(3, "u=1")])
                    .events(vec![E::PriorityUpdated(3, 1)]),
                1,
                "later",
            ),
            3,
            "first",
        ))
        .expect(vec![X::data(3).body("first"), X::data(1).body("later")]),
        two_responses(
            "incremental responses of one urgency share the connection round-robin",
            "u=2, i",
            "u=2, i",
        )
        .expect(vec![
            X::data(1).len(16_384).no_eos(),
            X::data(3).len(16_384).no_eos(),
            X::data(1).len(3_616).eos(),
            X::data(3).len(3_616).eos(),
        ]),
        two_responses(
            "non-incremental responses of one urgency go one after another in stream order",
            "u=2",
            "u=2",
        )
        .expect(vec![
            X::data(1).len(16_384).no_eos(),
            X::data(1).len(3_616).eos(),
            X::data(3).len(16_384).no_eos(),
            X::data(3).len(3_616).eos(),
        ]),
        two_responses(
            "a non-incremental response does not wait for an incremental one of higher urgency value",
            "u=4, i",
            "u=1",
        )
        .expect(vec![
            X::data(3).len(16_384).no_eos(),
            X::data(3).len(3_616).eos(),
            X::data(1).len(16_384).no_eos(),
            X::data(1).len(3_616).eos(),
        ]),
        open_windows(respond(
            respond(
                default_server(
                    "a client that sends only RFC 7540 signals keeps the dependency tree",
                )
                .peer(vec![
                    P::get(1, "/"),
                    P::get(3, "/"),
                    // The tree: 1 waits for 3. RFC 9218 would send 1 first (stream order).
                    P::priority(1, 3, 255, true),
                ]),
                1,
                "child",
            ),
            3,
            "parent",
        ))
        .expect(vec![X::data(3).body("parent"), X::data(1).body("child")]),
        open_windows(respond(
            respond(
                default_server(
                    "after a priority field, RFC 7540 signals are ignored: RFC 9218 settled",
                )
                .peer(vec![
                    P::headers(1, get_with_priority("u=3")).eos(),
                    P::get(3, "/"),
                    P::priority(1, 3, 255, true),
                ]),
                1,
                "first",
            ),
            3,
            "second",
        ))
        .expect(vec![X::data(1).body("first"), X::data(3).body("second")]),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE naming more idle streams than MAX_CONCURRENT_STREAMS allows is a connection error PROTOCOL_ERROR",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(2))
        .handshake()
        .peer(vec![P::get(1, "/"), P::priority_update(3, "u=1")])
        .events(vec![E::PriorityUpdated(3, 1)])
        .expect_not(X::any_goaway())
        .peer(vec![P::priority_update(5, "u=1")])
        .expect_goaway(PROTOCOL_ERROR),
        Scenario::server(
            "RFC 9218 §7.1",
            "PRIORITY_UPDATE for a closed stream is discarded",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(vec![P::priority_update(1, "u=0"), P::get(3, "/")])
        .events(vec![E::Request(3, Some("/"))])
        .expect_not(X::any_goaway()),
        Scenario::client(
            "RFC 9218 §7.1",
            "update_priority sends PRIORITY_UPDATE for the client's own request",
        )
        .handshake_with(vec![(0x9, 1)])
        .app(A::SendRequest(get("/"), true))
        .app(A::UpdatePriority(1, 0, true))
        .expect(vec![X::headers(1), X::priority_update(1, "u=0, i")])
        .app(A::UpdatePriority(1, 5, false))
        .expect(vec![X::priority_update(1, "u=5")]),
        Scenario::client(
            "RFC 9218 §7.1",
            "update_priority may name a request still waiting for a concurrency slot",
        )
        .handshake_with(vec![(0x9, 1), (0x3, 1)])
        .app(A::SendRequest(get("/"), true))
        .app(A::SendRequest(get("/"), true))
        .app(A::UpdatePriority(3, 0, false))
        .expect(vec![X::headers(1), X::priority_update(3, "u=0")])
        .expect_not(X::headers(3)),
        Scenario::client(
            "RFC 9218 §2.1",
            "update_priority sends nothing to a server that did not announce SETTINGS_NO_RFC7540_PRIORITIES",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .app(A::UpdatePriority(1, 0, false))
        .expect(vec![X::headers(1)])
        .expect_not(X::any(FrameType::PRIORITY_UPDATE)),
        Scenario::client(
            "RFC 9218 §4.1",
            "update_priority with an urgency above 7 is refused",
        )
        .handshake_with(vec![(0x9, 1)])
        .app(A::SendRequest(get("/"), true))
        .app_err(A::UpdatePriority(1, 8, false))
        .expect_not(X::any(FrameType::PRIORITY_UPDATE)),
        Scenario::client(
            "RFC 9218 §7.1",
            "update_priority for a stream never opened or already closed is refused",
        )
        .handshake_with(vec![(0x9, 1)])
        .app_err(A::UpdatePriority(1, 0, false))
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200"))])
        .app_err(A::UpdatePriority(1, 0, false))
        .expect_not(X::any(FrameType::PRIORITY_UPDATE)),
        Scenario::server(
            "RFC 9218 §7.1",
            "a server cannot send PRIORITY_UPDATE",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app_err(A::UpdatePriority(1, 0, false))
        .expect_not(X::any(FrameType::PRIORITY_UPDATE)),
    ]
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = rfc7540();
    v.extend(rfc9218());
    v.extend(rfc9218_default());
    v
}
