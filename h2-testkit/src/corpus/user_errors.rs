//! Commands the application may not issue: each returns a `UserError` and sends nothing (the
//! runner checks that no frame follows a refused command), while the connection goes on.

use crate::dsl::{get, hdrs, plus, request, response, PeerFrame as P};
use crate::{AppCommand as A, Scenario, Step};
use bytes::Bytes;
use h2core::{Config, Reason};

fn data(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// Server with a GET on stream 1 received.
fn server(section: &'static str, name: &'static str) -> Scenario {
    Scenario::server(section, name)
        .handshake()
        .peer(vec![P::get(1, "/")])
}

/// Client, handshake done.
fn client(section: &'static str, name: &'static str) -> Scenario {
    Scenario::client(section, name).handshake()
}

fn server_side() -> Vec<Scenario> {
    vec![
        server("RFC 9113 §5.1", "send_data after END_STREAM is refused")
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, data("a"), true))
            .app_err(A::SendData(1, data("b"), false)),
        server("RFC 9113 §8.1", "send_trailers after END_STREAM is refused")
            .app(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, data("a"), true))
            .app_err(A::SendTrailers(1, hdrs(&[("x-late", "1")]))),
        server("RFC 9113 §5.1", "a response on a closed stream is refused")
            .app(A::SendResponse(1, response("204"), true))
            .app_err(A::SendResponse(1, response("200"), true)),
        server("RFC 9113 §8.1", "a second final response is refused")
            .app(A::SendResponse(1, response("200"), false))
            .app_err(A::SendResponse(1, response("200"), false))
            .app(A::SendData(1, data("ok"), true)),
        server(
            "RFC 9113 §8.1",
            "an informational response after the final response is refused",
        )
        .app(A::SendResponse(1, response("200"), false))
        .app_err(A::SendInformational(1, response("103"))),
        server(
            "RFC 9113 §8.1",
            "send_informational with a final status is refused",
        )
        .app_err(A::SendInformational(1, response("200"))),
        server(
            "RFC 9113 §8.1",
            "send_response with a 1xx status is refused",
        )
        .app_err(A::SendResponse(1, response("100"), false)),
        server(
            "RFC 9113 §8.1",
            "DATA before the response HEADERS is refused",
        )
        .app_err(A::SendData(1, data("early"), true)),
        server("RFC 9113 §8.3.2", "a response without :status is refused")
            .app_err(A::SendResponse(1, hdrs(&[("server", "x")]), true)),
        server(
            "RFC 9113 §8.2.2",
            "a response with a connection-specific field is refused",
        )
        .app_err(A::SendResponse(
            1,
            plus(response("200"), &[("connection", "close")]),
            true,
        )),
        server(
            "RFC 9113 §8.1",
            "trailers with a pseudo-header field are refused",
        )
        .app(A::SendResponse(1, response("200"), false))
        .app_err(A::SendTrailers(1, hdrs(&[(":status", "200")]))),
        server("RFC 9113 §8.1", "a server calling send_request is refused")
            .app_err(A::SendRequest(get("/"), true)),
        server(
            "RFC 9113 §8.4",
            "a promised request that is not safe is refused",
        )
        .app_err(A::PushPromise(1, request("POST", "/form"))),
        server(
            "RFC 9113 §8.4",
            "a promised request without :authority is refused",
        )
        .app_err(A::PushPromise(
            1,
            hdrs(&[(":method", "GET"), (":scheme", "http"), (":path", "/a")]),
        )),
        server(
            "RFC 9113 §8.4",
            "a promise on a stream that is closed is refused",
        )
        .app(A::SendResponse(1, response("204"), true))
        .app_err(A::PushPromise(1, get("/style.css"))),
        server("RFC 9113 §8.4", "a promise on a pushed stream is refused")
            .app(A::PushPromise(1, get("/a.css")))
            .app_err(A::PushPromise(2, get("/b.css"))),
        server(
            "RFC 9113 §6.5.2",
            "a server cannot enable push in its SETTINGS",
        )
        .app_err(A::UpdateSettings({
            let mut v = Config::server().settings;
            v.enable_push = true;
            v
        })),
        server(
            "RFC 9113 §6.4",
            "resetting a stream that was never opened is refused",
        )
        .app_err(A::Reset(5, Reason::CANCEL)),
    ]
}

fn client_side() -> Vec<Scenario> {
    vec![
        client("RFC 9113 §8.4", "a client calling push_promise is refused")
            .app(A::SendRequest(get("/"), false))
            .app_err(A::PushPromise(1, get("/style.css"))),
        client("RFC 9113 §8.1", "a client calling send_response is refused")
            .app(A::SendRequest(get("/"), false))
            .app_err(A::SendResponse(1, response("200"), true))
            .app_err(A::SendInformational(1, response("100"))),
        client(
            "RFC 9113 §8.2.1",
            "a request with an uppercase field name is refused",
        )
        .app_err(A::SendRequest(plus(get("/"), &[("X-Upper", "1")]), true)),
        client(
            "RFC 9113 §8.2.2",
            "a request with a connection-specific field is refused",
        )
        .app_err(A::SendRequest(
            plus(get("/"), &[("transfer-encoding", "chunked")]),
            true,
        )),
        client("RFC 9113 §8.3.1", "a request without :path is refused").app_err(A::SendRequest(
            hdrs(&[(":method", "GET"), (":scheme", "http"), (":authority", "a")]),
            true,
        )),
        client(
            "RFC 9113 §8.3.1",
            "a request whose host differs from :authority is refused",
        )
        .app_err(A::SendRequest(plus(get("/"), &[("host", "other")]), true)),
        client(
            "RFC 9113 §5.1",
            "send_data on a stream the server reset is refused",
        )
        .app(A::SendRequest(request("POST", "/"), false))
        .peer(vec![P::rst(1, Reason::CANCEL)])
        .app_err(A::SendData(1, data("late"), true)),
        client(
            "RFC 9113 §5.1",
            "send_data on a promised (reserved remote) stream is refused",
        )
        .app(A::SendRequest(get("/"), true))
        .peer(vec![P::push_promise(1, 2, get("/style.css"))])
        .app_err(A::SendData(2, data("x"), true)),
        client(
            "RFC 9113 §6.8",
            "a request after the server's GOAWAY is refused",
        )
        .peer(vec![P::goaway(0, Reason::NO_ERROR)])
        .app_err(A::SendRequest(get("/"), true)),
        client(
            "RFC 9113 §5.3.1",
            "set_priority making a stream depend on itself is refused",
        )
        .app(A::SendRequest(get("/"), false))
        .app_err(A::SetPriority(1, 1, 15, false)),
        client(
            "RFC 9113 §6.7",
            "a second PING while one is outstanding is refused",
        )
        .app(A::Ping(*b"first..."))
        .app_err(A::Ping(*b"second..")),
        client(
            "RFC 9113 §6.5.2",
            "SETTINGS_MAX_FRAME_SIZE out of range is refused",
        )
        .app_err(A::UpdateSettings({
            let mut v = Config::client().settings;
            v.max_frame_size = 1 << 24;
            v
        })),
        client(
            "RFC 9113 §6.8",
            "commands after the connection is closed are refused",
        )
        .app(A::GoAway(Reason::NO_ERROR))
        .step(Step::ExpectClosed)
        .app_err(A::SendRequest(get("/"), true))
        .app_err(A::Ping(*b"closed.."))
        .app_err(A::SendExtension(0xfa, 0, 0, data("x"))),
    ]
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut v = server_side();
    v.extend(client_side());
    v
}
