//! Streamed response bodies that end unfinished, both ways: the handler aborts
//! (`BodySender::abort`: RST_STREAM with its reason over HTTP/2, an incomplete message over
//! HTTP/1.1), and the peer resets the stream (the handler's `BodySender` and request body
//! fail); a request body the handler drops is refused once the response is complete. Raw frames
//! from h2-testkit's DSL over a std `TcpStream`.

mod common;

use bytes::{Bytes, BytesMut};
use h2_mio::{Body, Error, Server};
use h2_testkit::dsl::{encode_frames, PeerFrame as P};
use h2core::Reason;
use http::{Request, Response};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const PROMPTLY: Duration = Duration::from_secs(10);
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const WINDOW_UPDATE: u8 = 0x8;

/// `/abort`: "partial", then aborted with INTERNAL_ERROR. `/forever`: sends until the body
/// fails, then reports the error on `failed`.
fn server(failed: mpsc::Sender<Error>) -> common::Running {
    let failed = Arc::new(Mutex::new(failed));
    let handler = move |req: Request<Body>| {
        let (mut tx, body) = Body::channel();
        if req.uri().path() == "/abort" {
            tx.send_data(Bytes::from_static(b"partial")).expect("send");
            tx.abort(Reason::INTERNAL_ERROR).expect("abort");
        } else {
            let failed = failed.lock().expect("lock").clone();
            std::thread::spawn(move || loop {
                if let Err(e) = tx.send_data(Bytes::from(vec![b'x'; 16 * 1024])) {
                    let _ = failed.send(e);
                    return;
                }
            });
        }
        Response::new(body)
    };
    common::start(Server::bind("127.0.0.1:0").expect("bind"), handler)
}

/// (type, flags, stream, payload) of each whole frame read until `done` says stop.
type Frame = (u8, u8, u32, Bytes);

fn read_frames(s: &mut TcpStream, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
    s.set_read_timeout(Some(PROMPTLY)).expect("timeout");
    let (mut buf, mut frames) = (BytesMut::new(), Vec::new());
    let mut chunk = [0u8; 16 * 1024];
    while !done(&frames) {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed; frames so far: {frames:?}");
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let head = buf.split_to(9);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]);
            frames.push((head[3], head[4], stream, buf.split_to(len).freeze()));
        }
    }
    frames
}

fn h2_get(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    let wire = encode_frames(&[P::Preface, P::settings(vec![]), P::get(1, path).eos()]);
    s.write_all(&wire).expect("write");
    s
}

#[test]
fn aborted_body_resets_the_stream_with_its_reason_after_what_was_sent() {
    let (failed, _) = mpsc::channel();
    let running = server(failed);
    let mut s = h2_get(running.addr, "/abort");
    let frames = read_frames(&mut s, |f| f.iter().any(|f| f.0 == RST_STREAM));
    let on_1: Vec<&Frame> = frames.iter().filter(|f| f.2 == 1).collect();
    assert_eq!(on_1[0].0, HEADERS, "{on_1:?}");
    assert_eq!((on_1[1].0, &on_1[1].3[..]), (DATA, &b"partial"[..]));
    let rst = on_1[2];
    assert_eq!(rst.0, RST_STREAM);
    assert_eq!(
        u32::from_be_bytes(rst.3[..4].try_into().unwrap()),
        2,
        "INTERNAL_ERROR"
    );
}

#[test]
fn aborted_body_over_http1_closes_without_completing_the_message() {
    let (failed, _) = mpsc::channel();
    let running = server(failed);
    let mut s = TcpStream::connect(running.addr).expect("connect");
    s.write_all(b"GET /abort HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(PROMPTLY)).expect("timeout");
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("read: {e}"),
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    assert!(
        text.ends_with("7\r\npartial\r\n"),
        "no last chunk: {text:?}"
    );
}

#[test]
fn peer_reset_fails_the_handlers_body_sender() {
    let (failed, failures) = mpsc::channel();
    let running = server(failed);
    let mut s = h2_get(running.addr, "/forever");
    read_frames(&mut s, |f| f.iter().any(|f| f.0 == DATA && f.2 == 1));
    s.write_all(&encode_frames(&[P::rst(1, Reason::CANCEL)]))
        .expect("write");
    let err = failures.recv_timeout(PROMPTLY).expect("the sender fails");
    assert!(matches!(err, Error::BodyDropped), "{err:?}");
}

/// A server whose `/read` handler reads its request body and reports how it ended, and whose
/// other routes answer `done` without reading it.
fn reading_server(outcome: mpsc::Sender<Result<usize, Error>>) -> common::Running {
    let outcome = Arc::new(Mutex::new(outcome));
    let handler = move |req: Request<Body>| {
        if req.uri().path() != "/read" {
            return Response::new(Body::from("done"));
        }
        let mut body = req.into_body();
        let mut n = 0;
        let result = loop {
            match body.data() {
                Some(Ok(d)) => n += d.len(),
                Some(Err(e)) => break Err(e),
                None => break Ok(n),
            }
        };
        let _ = outcome.lock().expect("lock").send(result);
        Response::new(Body::empty())
    };
    common::start(Server::bind("127.0.0.1:0").expect("bind"), handler)
}

fn h2_upload_start(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    let wire = encode_frames(&[
        P::Preface,
        P::settings(vec![]),
        P::request(1, "POST", path),
        P::data(1, Bytes::from_static(b"some of it")),
    ]);
    s.write_all(&wire).expect("write");
    s
}

#[test]
fn peer_reset_fails_the_handlers_request_body() {
    let (outcome, outcomes) = mpsc::channel();
    let running = reading_server(outcome);
    let mut s = h2_upload_start(running.addr, "/read");
    // The handler runs at the head and reads the first DATA; then the client gives up.
    s.write_all(&encode_frames(&[P::rst(1, Reason::CANCEL)]))
        .expect("write");
    let got = outcomes
        .recv_timeout(PROMPTLY)
        .expect("the handler saw the end");
    assert!(matches!(got, Err(Error::Reset(Reason::CANCEL))), "{got:?}");
}

#[test]
fn unread_request_body_is_refused_with_no_error_after_the_complete_response() {
    let (outcome, _) = mpsc::channel();
    let running = reading_server(outcome);
    let mut s = h2_upload_start(running.addr, "/ignore");
    let frames = read_frames(&mut s, |f| f.iter().any(|f| f.0 == RST_STREAM));
    // WINDOW_UPDATEs may come any time (flow control, not the exchange): left out.
    let on_1: Vec<&Frame> = frames
        .iter()
        .filter(|f| f.2 == 1 && f.0 != WINDOW_UPDATE)
        .collect();
    // RFC 9113 §8.1: the whole response (END_STREAM), then RST_STREAM(NO_ERROR).
    assert_eq!(on_1[0].0, HEADERS, "{on_1:?}");
    assert_eq!((on_1[1].0, &on_1[1].3[..]), (DATA, &b"done"[..]));
    assert_eq!(on_1[1].1 & 0x1, 0x1, "END_STREAM on the response");
    assert_eq!(on_1[2].0, RST_STREAM);
    assert_eq!(u32::from_be_bytes(on_1[2].3[..4].try_into().unwrap()), 0);
}
