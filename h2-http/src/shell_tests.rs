//! The shell without a socket: bytes in through its read buffer, requests out, responses
//! back, bytes out through its transport, time as an argument.

use super::*;
use crate::body::Blocking;
use crate::h2c::H2cStart;
use bytes::Bytes;
use h2core::shell::{CLOSE_FLUSH_GRACE, LINGER};
use h2core::{Config, Event};
use http::Request;
use std::io::IoSlice;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

type Handle = crate::handle::StreamHandle<Blocking>;

fn server(now: Instant) -> Shell<Blocking> {
    let accept = Accept::cleartext(Config::server(), now);
    Shell::accept(accept, Arc::new(|_, _| {}), Arc::new(|_| true))
}

/// The streams of the 1xx heads the handles asked for, as the route received them.
type Asked = Arc<std::sync::Mutex<Vec<StreamId>>>;

/// A route that records the streams of the 1xx commands sent through it.
fn recording_route() -> (Route<Blocking>, Asked) {
    let asked = Asked::default();
    let record = asked.clone();
    let route: Route<Blocking> = Arc::new(move |cmd| {
        if let crate::handle::StreamCommand::Informational { stream, .. } = cmd {
            record.lock().expect("record").push(stream);
        }
        true
    });
    (route, asked)
}

/// A server whose handles' 1xx commands are recorded in the returned list.
fn recording_server(now: Instant) -> (Shell<Blocking>, Asked) {
    let (route, asked) = recording_route();
    let accept = Accept::cleartext(Config::server(), now);
    (Shell::accept(accept, Arc::new(|_, _| {}), route), asked)
}

/// A 103 asked through `req`'s handle, which must exist.
fn early_hints(req: &Request<Body<Blocking>>) {
    let handle = Handle::of(req).expect("a received request has its handle");
    let hints = Response::builder().status(103).body(()).expect("103");
    handle.informational(hints).expect("route open");
}

/// One round as an adapter runs it, without the socket: the inputs handed on.
fn round(shell: &mut Shell<Blocking>, now: Instant) -> Vec<Input<Blocking>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut inputs = Vec::new();
    shell.poll(now, &mut cx, |input| {
        inputs.push(input);
        None
    });
    shell.flush(now, &mut cx);
    inputs
}

/// Everything the connection writes now, as a socket that takes all would.
fn written(shell: &mut Shell<Blocking>, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut slices = [IoSlice::new(&[]); 64];
        let n = shell.transport().io_slices(&mut slices);
        let before = out.len();
        slices[..n].iter().for_each(|s| out.extend_from_slice(s));
        let wrote = out.len() - before;
        shell.transport().advance(wrote);
        if !shell.refill(now) {
            return out;
        }
    }
}

fn request(inputs: Vec<Input<Blocking>>) -> (StreamId, Request<Body<Blocking>>) {
    let mut requests = inputs.into_iter().filter_map(|i| match i {
        Input::Request(stream, request) => Some((stream, request)),
        _ => None,
    });
    let first = requests.next().expect("a request");
    assert!(requests.next().is_none(), "one request");
    first
}

#[test]
fn an_http1_request_reaches_the_handler_with_its_handle_and_its_answer_goes_out() {
    let now = Instant::now();
    let mut shell = server(now);
    assert!(shell.wants_read());
    shell
        .read_buf()
        .extend_from_slice(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
    let (stream, req) = request(round(&mut shell, now));
    assert_eq!(stream, StreamId::ZERO);
    assert_eq!(req.uri().path(), "/x");
    assert!(Handle::of(&req).is_some());
    shell.respond(stream, Response::new(Body::from("hi")));
    round(&mut shell, now);
    let out = String::from_utf8(written(&mut shell, now)).expect("text");
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nhi"), "{out}");
    assert!(!shell.is_done(), "keep-alive");
}

#[test]
fn a_panicked_http1_handler_is_answered_500_and_the_connection_closes() {
    let now = Instant::now();
    let mut shell = server(now);
    shell
        .read_buf()
        .extend_from_slice(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n");
    let (stream, _req) = request(round(&mut shell, now));
    shell.handler_failed(stream);
    round(&mut shell, now);
    let out = String::from_utf8(written(&mut shell, now)).expect("text");
    assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
    assert!(shell.transport().is_closing());
}

#[test]
fn upgrade_h2c_answers_101_then_stream_1_over_http2() {
    let now = Instant::now();
    let mut shell = server(now);
    let up = Request::post("http://a/up")
        .body(Bytes::from_static(b"ping"))
        .expect("request");
    let mut client = H2cStart::new(&up, Config::client()).expect("h2c");
    shell.read_buf().extend_from_slice(client.request());
    let (stream, req) = request(round(&mut shell, now));
    assert_eq!(stream, StreamId::new(1));
    assert_eq!(req.uri().path(), "/up");
    assert_eq!(
        req.body().whole().as_deref(),
        Some(&b"ping"[..]),
        "read over HTTP/1.1"
    );
    assert!(Handle::of(&req).is_some());
    shell.respond(stream, Response::new(Body::from("up")));
    round(&mut shell, now);
    let out = written(&mut shell, now);
    assert!(out.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    client.read_buf().extend_from_slice(&out);
    let (mut conn, mut rest) = client.poll(now).expect("101").expect("switched");
    let _ = conn.handle_input(now, &mut rest);
    let status = std::iter::from_fn(|| conn.poll_event()).find_map(|e| match e {
        Event::ResponseReceived {
            stream, headers, ..
        } => Some((stream, headers[0].value.clone())),
        _ => None,
    });
    assert_eq!(status, Some((StreamId::new(1), Bytes::from_static(b"200"))));
}

/// A client's first request over HTTP/2 by prior knowledge, as bytes.
fn prior_knowledge(now: Instant) -> (Connection, Vec<u8>) {
    let mut client = Connection::new(Config::client(), now);
    let get = crate::request_to_h2(&Request::get("http://a/h2").body(()).unwrap(), "http");
    client.send_request(get, true).expect("request");
    let mut out = Vec::new();
    client.poll_transmit(now, &mut out);
    (client, out.concat())
}

#[test]
fn the_h2_preface_is_http2_and_a_response_reaches_the_client() {
    let now = Instant::now();
    let mut shell = server(now);
    let (mut client, preface) = prior_knowledge(now);
    shell.read_buf().extend_from_slice(&preface);
    let (stream, req) = request(round(&mut shell, now));
    assert_eq!(stream, StreamId::new(1));
    assert!(Handle::of(&req).is_some());
    shell.respond(stream, Response::new(Body::from("h2")));
    round(&mut shell, now);
    let mut back = BytesMut::from(&written(&mut shell, now)[..]);
    let _ = client.handle_input(now, &mut back);
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    let data = events.iter().find_map(|e| match e {
        Event::DataReceived { data, .. } => Some(data.clone()),
        _ => None,
    });
    assert_eq!(data.as_deref(), Some(&b"h2"[..]));
}

#[test]
fn end_of_input_is_told_to_http2_once() {
    let now = Instant::now();
    let mut shell = server(now);
    let (_client, preface) = prior_knowledge(now);
    shell.read_buf().extend_from_slice(&preface);
    let _ = round(&mut shell, now);
    shell.handle_eof(None);
    assert!(!shell.wants_read());
    let closed =
        |inputs: Vec<Input<Blocking>>| inputs.iter().filter(|i| matches!(i, Input::Closed)).count();
    assert_eq!(closed(round(&mut shell, now)), 1);
    // Told once: a round after it has nothing to do (an adapter's loop would spin).
    let mut cx = Context::from_waker(Waker::noop());
    assert!(!shell.poll(now, &mut cx, |_| None));
    assert!(shell.transport().is_closing());
}

#[test]
fn a_peer_gone_before_speaking_is_dropped_at_once() {
    let now = Instant::now();
    let mut shell = server(now);
    shell.handle_eof(None);
    assert!(round(&mut shell, now).is_empty());
    assert!(shell.is_done());
    // Over TLS, before the handshake is done.
    let accept = Accept::tls(Config::server(), now);
    let mut shell = Shell::<Blocking>::accept(accept, Arc::new(|_, _| {}), Arc::new(|_| true));
    shell.handle_eof(None);
    assert!(round(&mut shell, now).is_empty());
    assert!(shell.is_done());
}

#[test]
fn nothing_within_the_handshake_timeout_closes_silently() {
    let now = Instant::now();
    let mut shell = server(now);
    let deadline = now + Config::server().handshake_timeout;
    assert_eq!(shell.poll_timeout(), Some(deadline));
    shell.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!shell.is_done());
    shell.handle_timeout(deadline);
    assert!(shell.is_done());
    assert!(written(&mut shell, deadline).is_empty());
}

#[test]
fn an_idle_http1_connection_closes_after_the_idle_timeout_then_lingers() {
    let now = Instant::now();
    let mut shell = server(now);
    shell
        .read_buf()
        .extend_from_slice(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n");
    let (stream, _) = request(round(&mut shell, now));
    assert_eq!(
        shell.poll_timeout(),
        None,
        "no deadline while the handler runs"
    );
    shell.respond(stream, Response::new(Body::empty()));
    round(&mut shell, now);
    let _ = written(&mut shell, now);
    let idle = now + Config::server().idle_timeout.expect("idle timeout");
    assert_eq!(shell.poll_timeout(), Some(idle));
    shell.handle_timeout(idle);
    round(&mut shell, idle);
    // Closing: only the close sequence's deadlines count now.
    assert_eq!(shell.poll_timeout(), Some(idle + CLOSE_FLUSH_GRACE));
    assert_eq!(
        shell.poll_close(idle, false),
        Some(CloseAction::ShutdownWrite)
    );
    assert_eq!(shell.poll_timeout(), Some(idle + LINGER));
    // Lingering: what still arrives is read and dropped, until the peer's FIN.
    assert!(shell.wants_read());
    shell.read_buf().extend_from_slice(b"late");
    round(&mut shell, idle);
    assert!(shell.read_buf().is_empty());
    shell.handle_eof(None);
    round(&mut shell, idle);
    assert!(shell.is_done());
}

#[test]
fn a_shutdown_while_deciding_closes() {
    let now = Instant::now();
    let mut shell = server(now);
    shell.shutdown(now);
    assert!(!shell.wants_read());
    assert_eq!(shell.poll_timeout(), Some(now + CLOSE_FLUSH_GRACE));
}

#[test]
fn a_failed_write_ends_the_connection_with_its_error() {
    let now = Instant::now();
    let mut shell = server(now);
    let (_client, preface) = prior_knowledge(now);
    shell.read_buf().extend_from_slice(&preface);
    let _ = round(&mut shell, now);
    shell.write_failed(now, std::io::ErrorKind::BrokenPipe.into());
    assert!(shell.is_done());
    assert!(shell.take_error().is_some());
    assert!(shell.take_error().is_none(), "taken once");
    // Over HTTP/1.1 too.
    let mut shell = server(now);
    shell.read_buf().extend_from_slice(b"GET / HTTP/1.1\r\n");
    let _ = round(&mut shell, now);
    shell.write_failed(now, std::io::ErrorKind::BrokenPipe.into());
    assert!(shell.is_done());
    assert!(matches!(shell.take_error(), Some(Error::Io(_))));
}

#[test]
fn an_http2_request_carries_its_streams_handle_in_its_body_not_its_extensions() {
    let now = Instant::now();
    let (mut shell, asked) = recording_server(now);
    let (_client, preface) = prior_knowledge(now);
    shell.read_buf().extend_from_slice(&preface);
    let (stream, req) = request(round(&mut shell, now));
    assert_eq!(stream, StreamId::new(1));
    assert!(req.extensions().get::<Handle>().is_none(), "no allocation");
    early_hints(&req);
    assert_eq!(*asked.lock().expect("asked"), [StreamId::new(1)]);
}

#[test]
fn an_http1_request_carries_a_handle_for_interim_responses() {
    let now = Instant::now();
    let (mut shell, asked) = recording_server(now);
    shell
        .read_buf()
        .extend_from_slice(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
    let (_, req) = request(round(&mut shell, now));
    early_hints(&req);
    assert_eq!(*asked.lock().expect("asked"), [StreamId::ZERO]);
}

#[test]
fn a_handle_put_in_the_extensions_is_found_and_a_request_without_one_has_none() {
    let (route, asked) = recording_route();
    let mut req = Request::new(Body::<Blocking>::empty());
    assert!(
        Handle::of(&req).is_none(),
        "made here, received by no server"
    );
    req.extensions_mut()
        .insert(Handle::new(StreamId::new(7), route));
    early_hints(&req);
    assert_eq!(*asked.lock().expect("asked"), [StreamId::new(7)]);
}
#[test]
fn zz_sizes() {
    eprintln!(
        "SIZES body {} cmd {} resp {}",
        std::mem::size_of::<Body<Blocking>>(),
        std::mem::size_of::<crate::drive::Command<Blocking>>(),
        std::mem::size_of::<Response<Body<Blocking>>>()
    );
}
