//! RFC 9113 §8: message framing (§8.1), fields (§8.2), pseudo-headers (§8.3), CONNECT (§8.5 and
//! RFC 8441), long-lived streams and retries (§8.7), in both roles.
//!
//! A malformed message is a stream error PROTOCOL_ERROR (§8.1.1): the stream is reset, the
//! message is not delivered, and the connection goes on (the next request is still served).

use crate::dsl::{
    get, hdrs, plus, request, response, ExpectEvent as E, ExpectFrame as X, PeerFrame as P,
};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::{Header, Reason};
use std::time::Duration;

const PROTOCOL_ERROR: Reason = Reason::PROTOCOL_ERROR;

/// Server: `first` (and what follows) makes the request on stream 1 malformed: RST_STREAM(1,
/// PROTOCOL_ERROR), and a request on stream 3 is still served.
fn malformed_request(section: &'static str, name: &'static str, frames: Vec<P>) -> Scenario {
    Scenario::server(section, name)
        .handshake()
        .peer(frames)
        .expect_rst(1, PROTOCOL_ERROR)
        .peer(vec![P::get(3, "/next")])
        .events(vec![E::Request(3, Some("/next"))])
}

/// Server: a request whose header block alone is malformed is never delivered.
fn malformed_head(section: &'static str, name: &'static str, headers: Vec<Header>) -> Scenario {
    malformed_request(section, name, vec![P::headers(1, headers).eos()])
        .no_event(E::Request(1, None))
}

/// Client: our GET on stream 1 is answered with `frames`, which make the response malformed:
/// RST_STREAM(1, PROTOCOL_ERROR), and a second request still gets its response.
fn malformed_response(section: &'static str, name: &'static str, frames: Vec<P>) -> Scenario {
    Scenario::client(section, name)
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::headers(1).eos()])
        .peer(frames)
        .expect_rst(1, PROTOCOL_ERROR)
        .events(vec![E::Reset(1, Some(PROTOCOL_ERROR))])
        .app(A::SendRequest(get("/again"), true))
        .expect(vec![X::headers(3).eos()])
        .peer(vec![P::response(3, "200").eos()])
        .events(vec![E::Response(3, Some("200")), E::Ended(3)])
}

/// A POST on `stream` announcing `content-length: n` (no END_STREAM).
fn post_with_length(stream: u32, n: &str) -> P {
    P::headers(
        stream,
        plus(request("POST", "/upload"), &[("content-length", n)]),
    )
}

fn b(s: &'static str) -> Option<Bytes> {
    Some(Bytes::from_static(s.as_bytes()))
}

fn message_framing() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §8.1",
            "a request is a header section, DATA, then a trailer section ending the stream",
        )
        .handshake()
        .peer(vec![
            P::request(1, "POST", "/upload"),
            P::data(1, "body"),
            P::headers(1, hdrs(&[("x-checksum", "42")])).eos(),
        ])
        .events(vec![
            E::Request(1, Some("/upload")),
            E::Data(1, b("body")),
            E::Field(1, "x-checksum", "42"),
            E::Ended(1),
        ])
        .app(A::SendResponse(1, response("204"), true))
        .expect(vec![X::headers(1).status("204").eos()]),
        Scenario::server(
            "RFC 9113 §8.1",
            "the server sends trailers after the DATA of its response",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, Bytes::from_static(b"abc"), false))
        .app(A::SendTrailers(1, hdrs(&[("x-checksum", "7")])))
        .expect(vec![
            X::headers(1).status("200").no_eos(),
            X::data(1).body("abc").no_eos(),
            X::headers(1).field("x-checksum", "7").eos(),
        ]),
        malformed_request(
            "RFC 9113 §8.1",
            "a second HEADERS without END_STREAM after the header section is malformed",
            vec![
                P::request(1, "POST", "/"),
                P::data(1, "test"),
                P::headers(1, hdrs(&[("x-test", "ok")])),
            ],
        )
        .no_event(E::Trailers(1)),
        malformed_response(
            "RFC 9113 §8.1",
            "response trailers without END_STREAM are malformed",
            vec![
                P::response(1, "200"),
                P::data(1, "x"),
                P::headers(1, hdrs(&[("x-test", "ok")])),
            ],
        )
        .no_event(E::Trailers(1)),
        malformed_response(
            "RFC 9113 §8.1",
            "DATA before the response HEADERS is malformed",
            vec![P::data(1, "early")],
        )
        .no_event(E::Data(1, None)),
        malformed_response(
            "RFC 9113 §8.1",
            "DATA after a 1xx response and before the final response is malformed",
            vec![P::response(1, "103"), P::data(1, "early")],
        )
        .no_event(E::Data(1, None)),
        malformed_response(
            "RFC 9113 §8.1",
            "a HEADERS frame with END_STREAM carrying a 1xx status is malformed",
            vec![P::response(1, "100").eos()],
        )
        .no_event(E::Informational(1, "100")),
        Scenario::server(
            "RFC 9113 §8.1",
            "server sends 100 (Continue) before reading the content, then the final response",
        )
        .handshake()
        .peer(vec![P::headers(
            1,
            plus(request("POST", "/"), &[("expect", "100-continue")]),
        )])
        .events(vec![E::Request(1, Some("/"))])
        .app(A::SendInformational(1, response("100")))
        .expect(vec![X::headers(1).status("100").no_eos()])
        .peer(vec![P::data(1, "body").eos()])
        .events(vec![E::Data(1, b("body")), E::Ended(1)])
        .app(A::SendResponse(1, response("201"), true))
        .expect(vec![X::headers(1).status("201").eos()]),
        Scenario::server(
            "RFC 9113 §8.1",
            "server sends two 103 (Early Hints) responses before the final response",
        )
        .handshake()
        .peer(vec![P::get(1, "/")])
        .app(A::SendInformational(
            1,
            hdrs(&[(":status", "103"), ("link", "</a.css>; rel=preload")]),
        ))
        .app(A::SendInformational(
            1,
            hdrs(&[(":status", "103"), ("link", "</b.js>; rel=preload")]),
        ))
        .app(A::SendResponse(1, response("200"), false))
        .app(A::SendData(1, Bytes::from_static(b"page"), true))
        .expect(vec![
            X::headers(1)
                .status("103")
                .field("link", "</a.css>; rel=preload")
                .no_eos(),
            X::headers(1)
                .status("103")
                .field("link", "</b.js>; rel=preload")
                .no_eos(),
            X::headers(1).status("200").no_eos(),
            X::data(1).body("page").eos(),
        ]),
        Scenario::client(
            "RFC 9113 §8.1",
            "client receives 100 (Continue) as an informational response, then sends the content",
        )
        .handshake()
        .app(A::SendRequest(
            plus(request("POST", "/"), &[("expect", "100-continue")]),
            false,
        ))
        .expect(vec![X::headers(1).no_eos()])
        .peer(vec![P::response(1, "100")])
        .events(vec![E::Informational(1, "100")])
        .no_event(E::Response(1, None))
        .app(A::SendData(1, Bytes::from_static(b"body"), true))
        .expect(vec![X::data(1).body("body").eos()])
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)]),
        Scenario::client(
            "RFC 9113 §8.1",
            "client receives any number of 103 (Early Hints) before the final response",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![
            P::headers(
                1,
                hdrs(&[(":status", "103"), ("link", "</a.css>; rel=preload")]),
            ),
            P::response(1, "103"),
            P::response(1, "200"),
            P::data(1, "page").eos(),
        ])
        .events(vec![
            E::Field(1, "link", "</a.css>; rel=preload"),
            E::Informational(1, "103"),
            E::Response(1, Some("200")),
            E::Data(1, b("page")),
            E::Ended(1),
        ])
        .expect_not(X::any_rst()),
    ]
}

fn content_length() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §8.1.1",
            "DATA adding up to content-length is accepted",
        )
        .handshake()
        .peer(vec![
            post_with_length(1, "6"),
            P::data(1, "abc"),
            P::data(1, "def").eos(),
        ])
        .events(vec![
            E::Request(1, Some("/upload")),
            E::Data(1, b("abc")),
            E::Data(1, b("def")),
            E::Ended(1),
        ])
        .expect_not(X::any_rst()),
        malformed_request(
            "RFC 9113 §8.1.1",
            "a request whose DATA exceeds its content-length is malformed",
            vec![post_with_length(1, "1"), P::data(1, "test").eos()],
        ),
        malformed_request(
            "RFC 9113 §8.1.1",
            "a request whose DATA frames add up to more than content-length is malformed",
            vec![
                post_with_length(1, "4"),
                P::data(1, "test"),
                P::data(1, "test").eos(),
            ],
        ),
        malformed_request(
            "RFC 9113 §8.1.1",
            "a request ending with less DATA than its content-length is malformed",
            vec![post_with_length(1, "10"), P::data(1, "abc").eos()],
        ),
        malformed_head(
            "RFC 9113 §8.1.1",
            "a request ending on its HEADERS with a non-zero content-length is malformed",
            plus(request("POST", "/"), &[("content-length", "5")]),
        ),
        malformed_response(
            "RFC 9113 §8.1.1",
            "a response whose DATA exceeds its content-length is malformed",
            vec![
                P::headers(1, plus(response("200"), &[("content-length", "2")])),
                P::data(1, "abc").eos(),
            ],
        ),
        malformed_response(
            "RFC 9113 §8.1.1",
            "a response ending with less DATA than its content-length is malformed",
            vec![
                P::headers(1, plus(response("200"), &[("content-length", "10")])),
                P::data(1, "abc").eos(),
            ],
        )
        .no_event(E::Ended(1)),
        Scenario::client(
            "RFC 9113 §8.1.1",
            "a response to HEAD has a content-length and no content",
        )
        .handshake()
        .app(A::SendRequest(request("HEAD", "/big"), true))
        .peer(vec![P::headers(
            1,
            plus(response("200"), &[("content-length", "123456")]),
        )
        .eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)])
        .expect_not(X::any_rst()),
        Scenario::client(
            "RFC 9113 §8.1.1",
            "a 304 response has a content-length and no content",
        )
        .handshake()
        .app(A::SendRequest(get("/cached"), true))
        .peer(vec![P::headers(
            1,
            plus(response("304"), &[("content-length", "42")]),
        )
        .eos()])
        .events(vec![E::Response(1, Some("304")), E::Ended(1)])
        .expect_not(X::any_rst()),
        Scenario::server(
            "RFC 9113 §8.1.1",
            "the server answers HEAD with content-length and END_STREAM on its HEADERS",
        )
        .handshake()
        .peer(vec![P::headers(1, request("HEAD", "/big")).eos()])
        .app(A::SendResponse(
            1,
            plus(response("200"), &[("content-length", "123456")]),
            true,
        ))
        .expect(vec![X::headers(1)
            .status("200")
            .field("content-length", "123456")
            .eos()]),
    ]
}

/// RFC 9113 §8.2.2: the connection-specific fields, each a malformed request.
const CONNECTION_SPECIFIC: [(&str, &str, &str); 5] = [
    (
        "connection",
        "keep-alive",
        "a request with a connection field is malformed",
    ),
    (
        "keep-alive",
        "timeout=5",
        "a request with a keep-alive field is malformed",
    ),
    (
        "proxy-connection",
        "keep-alive",
        "a request with a proxy-connection field is malformed",
    ),
    (
        "transfer-encoding",
        "chunked",
        "a request with a transfer-encoding field is malformed",
    ),
    (
        "upgrade",
        "websocket",
        "a request with an upgrade field is malformed",
    ),
];

/// RFC 9113 §8.2.1: field lines a request must not carry.
const BAD_FIELDS: [(&str, &str, &str); 7] = [
    (
        "X-Upper",
        "1",
        "a field name with an uppercase character is malformed",
    ),
    ("x y", "1", "a field name with a space is malformed"),
    (
        "x-colon:",
        "1",
        "a field name with a colon after the first character is malformed",
    ),
    ("x-nul", "a\0b", "a field value with NUL is malformed"),
    ("x-cr", "a\rb", "a field value with CR is malformed"),
    ("x-lf", "a\nb", "a field value with LF is malformed"),
    (
        "x-space",
        " leading",
        "a field value starting with whitespace is malformed",
    ),
];

fn fields() -> Vec<Scenario> {
    let mut v: Vec<Scenario> = CONNECTION_SPECIFIC
        .iter()
        .map(|&(n, value, name)| {
            malformed_head("RFC 9113 §8.2.2", name, plus(get("/"), &[(n, value)]))
        })
        .collect();
    v.extend(BAD_FIELDS.iter().map(|&(n, value, name)| {
        malformed_head("RFC 9113 §8.2.1", name, plus(get("/"), &[(n, value)]))
    }));
    v.extend([
        malformed_head(
            "RFC 9113 §8.2.2",
            "TE with a value other than trailers is malformed",
            plus(get("/"), &[("te", "gzip")]),
        ),
        Scenario::server(
            "RFC 9113 §8.2.2",
            "TE: trailers is the one connection-specific field a request may carry",
        )
        .handshake()
        .peer(vec![
            P::headers(1, plus(get("/"), &[("te", "trailers")])).eos()
        ])
        .events(vec![E::Field(1, "te", "trailers")])
        .expect_not(X::any_rst()),
        malformed_response(
            "RFC 9113 §8.2.1",
            "a response field name with an uppercase character is malformed",
            vec![P::headers(1, plus(response("200"), &[("Server", "x")])).eos()],
        )
        .no_event(E::Response(1, None)),
        malformed_response(
            "RFC 9113 §8.2.2",
            "a response with a connection-specific field is malformed",
            vec![P::headers(1, plus(response("200"), &[("connection", "close")])).eos()],
        )
        .no_event(E::Response(1, None)),
    ]);
    v
}

fn pseudo_headers() -> Vec<Scenario> {
    let req = |fields: &[(&str, &str)]| hdrs(fields);
    vec![
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request without :method is malformed",
            req(&[
                (":scheme", "http"),
                (":authority", "localhost"),
                (":path", "/"),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request without :scheme is malformed",
            req(&[
                (":method", "GET"),
                (":authority", "localhost"),
                (":path", "/"),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request without :path is malformed",
            req(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "localhost"),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request with an empty :path is malformed",
            req(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "localhost"),
                (":path", ""),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request with :path twice is malformed",
            plus(get("/"), &[(":path", "/other")]),
        ),
        malformed_head(
            "RFC 9113 §8.3.1",
            "a request with :method twice is malformed",
            req(&[
                (":method", "GET"),
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "localhost"),
                (":path", "/"),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3",
            "a request with an undefined pseudo-header field is malformed",
            plus(get("/"), &[(":foo", "bar")]),
        ),
        malformed_head(
            "RFC 9113 §8.3",
            "a pseudo-header field after a regular field is malformed",
            req(&[
                (":method", "GET"),
                (":scheme", "http"),
                ("x-regular", "1"),
                (":authority", "localhost"),
                (":path", "/"),
            ]),
        ),
        malformed_head(
            "RFC 9113 §8.3",
            "a request carrying the response pseudo-header :status is malformed",
            plus(get("/"), &[(":status", "200")]),
        ),
        malformed_request(
            "RFC 9113 §8.1",
            "a trailer section with a pseudo-header field is malformed",
            vec![
                P::request(1, "POST", "/"),
                P::data(1, "x"),
                P::headers(1, hdrs(&[(":path", "/trailer")])).eos(),
            ],
        )
        .no_event(E::Trailers(1)),
        Scenario::server("RFC 9113 §8.3.1", "OPTIONS with :path * is a valid request")
            .handshake()
            .peer(vec![P::headers(1, request("OPTIONS", "*")).eos()])
            .events(vec![E::Request(1, Some("*"))])
            .expect_not(X::any_rst()),
        malformed_response(
            "RFC 9113 §8.3.2",
            "a response without :status is malformed",
            vec![P::headers(1, hdrs(&[("server", "x")])).eos()],
        )
        .no_event(E::Response(1, None)),
        malformed_response(
            "RFC 9113 §8.3",
            "a response carrying the request pseudo-header :path is malformed",
            vec![P::headers(1, hdrs(&[(":status", "200"), (":path", "/")])).eos()],
        )
        .no_event(E::Response(1, None)),
        malformed_response(
            "RFC 9113 §8.3.2",
            "a response with :status twice is malformed",
            vec![P::headers(1, hdrs(&[(":status", "200"), (":status", "204")])).eos()],
        )
        .no_event(E::Response(1, None)),
    ]
}

fn connect_request() -> Vec<Header> {
    hdrs(&[(":method", "CONNECT"), (":authority", "example.com:443")])
}

fn websocket_request(path: bool) -> Vec<Header> {
    let mut h = hdrs(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":authority", "localhost"),
    ]);
    if path {
        h.extend(hdrs(&[(":path", "/chat")]));
    }
    h
}

/// Server with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, which it must announce.
fn extended_connect_server(name: &'static str) -> Scenario {
    Scenario::server("RFC 8441 §4", name)
        .config(|c| c.settings.enable_connect_protocol = true)
        .peer(vec![P::Preface, P::settings(vec![])])
        .expect(vec![X::settings().setting(0x8, 1), X::settings_ack()])
        .peer(vec![P::SettingsAck])
}

fn connect() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §8.5",
            "CONNECT with only :method and :authority opens a tunnel carrying DATA both ways",
        )
        .handshake()
        .peer(vec![P::headers(1, connect_request())])
        .events(vec![E::Field(1, ":authority", "example.com:443")])
        .app(A::SendResponse(1, response("200"), false))
        .expect(vec![X::headers(1).status("200").no_eos()])
        .peer(vec![P::data(1, "hello")])
        .events(vec![E::Data(1, b("hello"))])
        .app(A::SendData(1, Bytes::from_static(b"world"), false))
        .expect(vec![X::data(1).body("world").no_eos()])
        .expect_not(X::any_rst()),
        malformed_head(
            "RFC 9113 §8.5",
            "CONNECT with :scheme and :path is malformed",
            plus(connect_request(), &[(":scheme", "https"), (":path", "/")]),
        ),
        malformed_head(
            "RFC 9113 §8.5",
            "CONNECT without :authority is malformed",
            hdrs(&[(":method", "CONNECT")]),
        ),
        Scenario::client(
            "RFC 9113 §8.5",
            "client sends CONNECT without :scheme and :path and keeps the stream open",
        )
        .handshake()
        .app(A::SendRequest(connect_request(), false))
        .expect(vec![X::headers(1)
            .field(":method", "CONNECT")
            .field(":authority", "example.com:443")
            .no_eos()])
        .peer(vec![P::response(1, "200")])
        .events(vec![E::Response(1, Some("200"))])
        .app(A::SendData(1, Bytes::from_static(b"tunnel"), false))
        .expect(vec![X::data(1).body("tunnel").no_eos()]),
        extended_connect_server(
            "a server with SETTINGS_ENABLE_CONNECT_PROTOCOL accepts a CONNECT with :protocol",
        )
        .peer(vec![P::headers(1, websocket_request(true))])
        .events(vec![E::Field(1, ":protocol", "websocket")])
        .app(A::SendResponse(1, response("200"), false))
        .expect(vec![X::headers(1).status("200").no_eos()])
        .expect_not(X::any_rst()),
        malformed_head(
            "RFC 8441 §3",
            "a :protocol request without SETTINGS_ENABLE_CONNECT_PROTOCOL is malformed",
            websocket_request(true),
        ),
        extended_connect_server(":protocol on a method other than CONNECT is malformed")
            .peer(vec![P::headers(1, {
                let mut h = websocket_request(true);
                h[0] = Header::new(":method", "GET");
                h
            })])
            .expect_rst(1, PROTOCOL_ERROR)
            .no_event(E::Request(1, None)),
        extended_connect_server("an extended CONNECT without :scheme is malformed")
            .peer(vec![P::headers(1, {
                let mut h = websocket_request(true);
                h.retain(|f| f.name != ":scheme");
                h
            })])
            .expect_rst(1, PROTOCOL_ERROR)
            .no_event(E::Request(1, None)),
        extended_connect_server("an extended CONNECT without :path is malformed")
            .peer(vec![P::headers(1, websocket_request(false))])
            .expect_rst(1, PROTOCOL_ERROR)
            .no_event(E::Request(1, None)),
        Scenario::client(
            "RFC 8441 §3",
            "client may not send :protocol before the server enables the extended CONNECT",
        )
        .handshake()
        .app_err(A::SendRequest(websocket_request(true), false)),
        Scenario::client(
            "RFC 8441 §4",
            "client sends an extended CONNECT once the server set SETTINGS_ENABLE_CONNECT_PROTOCOL",
        )
        .handshake_with(vec![(0x8, 1)])
        .app(A::SendRequest(websocket_request(true), false))
        .expect(vec![X::headers(1)
            .field(":protocol", "websocket")
            .field(":path", "/chat")
            .no_eos()]),
        Scenario::client(
            "RFC 8441 §3",
            "SETTINGS_ENABLE_CONNECT_PROTOCOL cannot be withdrawn once set to 1",
        )
        .handshake_with(vec![(0x8, 1)])
        .peer(vec![P::settings(vec![(0x8, 0)])])
        .expect_goaway(PROTOCOL_ERROR),
    ]
}

fn long_lived_and_retries() -> Vec<Scenario> {
    vec![
        Scenario::server(
            "RFC 9113 §8.1",
            "a response HEADERS without END_STREAM is sent at once; DATA may follow much later",
        )
        .handshake()
        .peer(vec![P::get(1, "/downchannel")])
        .app(A::SendResponse(1, response("200"), false))
        .expect(vec![X::headers(1).status("200").no_eos()])
        .advance(Duration::from_secs(3600))
        .expect_not(X::any_goaway())
        .expect_not(X::any_rst())
        .app(A::SendData(1, Bytes::from_static(b"directive"), false))
        .expect(vec![X::data(1).body("directive").no_eos()])
        .step(Step::ExpectOpen),
        Scenario::client(
            "RFC 9113 §8.1",
            "a long-lived response stream delivers DATA long after its HEADERS",
        )
        .handshake()
        .app(A::SendRequest(get("/downchannel"), true))
        .peer(vec![P::response(1, "200")])
        .events(vec![E::Response(1, Some("200"))])
        .advance(Duration::from_secs(3600))
        .peer(vec![P::data(1, "directive")])
        .events(vec![E::Data(1, b("directive"))])
        .expect_not(X::any_goaway())
        .step(Step::ExpectOpen),
        Scenario::client(
            "RFC 9113 §8.7",
            "requests above a GOAWAY's last-stream-id are reset REFUSED_STREAM and may be retried",
        )
        .handshake()
        .app(A::SendRequest(get("/1"), true))
        .app(A::SendRequest(get("/3"), true))
        .expect(vec![X::headers(1), X::headers(3)])
        .peer(vec![P::goaway(1, Reason::NO_ERROR)])
        .events(vec![
            E::GoAway(Some(1), Some(Reason::NO_ERROR)),
            E::Reset(3, Some(Reason::REFUSED_STREAM)),
        ])
        .no_event(E::Reset(1, None))
        .peer(vec![P::response(1, "200").eos()])
        .events(vec![E::Response(1, Some("200")), E::Ended(1)]),
        Scenario::client(
            "RFC 9113 §8.7",
            "RST_STREAM with REFUSED_STREAM reports the request as not processed",
        )
        .handshake()
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::rst(1, Reason::REFUSED_STREAM)])
        .events(vec![E::Reset(1, Some(Reason::REFUSED_STREAM))])
        .app(A::SendRequest(get("/"), true))
        .expect(vec![X::headers(3).eos()]),
        Scenario::server(
            "RFC 9113 §8.7",
            "a stream above SETTINGS_MAX_CONCURRENT_STREAMS is refused with REFUSED_STREAM",
        )
        .config(|c| c.settings.max_concurrent_streams = Some(1))
        .handshake()
        .peer(vec![P::request(1, "POST", "/"), P::get(3, "/")])
        .expect_rst(3, Reason::REFUSED_STREAM)
        .no_event(E::Request(3, None))
        .peer(vec![P::data(1, "x").eos()])
        .events(vec![E::Request(1, None), E::Ended(1)]),
    ]
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = message_framing();
    v.extend(content_length());
    v.extend(fields());
    v.extend(pseudo_headers());
    v.extend(connect());
    v.extend(long_lived_and_retries());
    v
}
