//! The loop reads a socket only while it may hold bytes: after a read that found its queue
//! empty (`WouldBlock`, or a short read of a stream socket) it waits for the next readiness
//! event, which mio raises edge-triggered for every later arrival. These tests send more
//! than one read takes, all at once, and then wait without sending anything: a loop that
//! stopped reading while bytes were still queued would never see another event for them,
//! and the answer would never come (the hang guard fails the test).

mod common;

use h2_mio::{Body, Client, RequestTimeout, Server};
use http::{Request, Response};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A hang guard only: the answer comes at once unless bytes were left unread.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// Several times the loop's read size (16 KiB), and more than the socket buffers hold.
const BODY: usize = 4 << 20;

/// Answers with the length of the request body, read to its end.
fn count(req: Request<Body>) -> Response<Body> {
    let n = req.into_body().bytes().map_or(0, |b| b.len());
    Response::new(Body::from(n.to_string()))
}

#[test]
fn an_http1_body_sent_in_one_write_is_read_to_its_end() {
    let server = common::start(Server::bind("127.0.0.1:0").expect("bind"), count);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(HANG_GUARD)).expect("timeout");
    let head = format!("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {BODY}\r\n\r\n");
    let mut request = head.into_bytes();
    request.resize(request.len() + BODY, b'x');
    // Then nothing more: whatever the loop leaves queued raises no further event.
    let mut w = s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(&request));
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.ends_with(BODY.to_string().as_bytes()) {
        match s.read(&mut chunk) {
            Ok(0) => panic!("closed; got {:?}", String::from_utf8_lossy(&got)),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("no answer within {HANG_GUARD:?}: request bytes left unread")
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    writer.join().expect("writer").expect("write");
}

#[test]
fn pipelined_http1_requests_in_one_write_are_all_answered() {
    let server = common::start(Server::bind("127.0.0.1:0").expect("bind"), count);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(HANG_GUARD)).expect("timeout");
    // Over one read's worth of heads in a single write, then silence.
    let one = "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc";
    let n = 2 * (16 << 10) / one.len();
    s.write_all(one.repeat(n).as_bytes()).expect("write");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let answers = |got: &[u8]| got.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    while answers(&got) < n {
        match s.read(&mut chunk) {
            Ok(0) => panic!("closed after {} of {n} answers", answers(&got)),
            Ok(k) => got.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{} of {n} answers within {HANG_GUARD:?}", answers(&got))
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn an_http2_upload_is_read_to_its_end_on_either_handler_placement() {
    for threads in [0, 2] {
        let server = Server::bind("127.0.0.1:0").expect("bind");
        // On the loop (0 threads) a handler must not block: it echoes, streaming.
        let server = common::start(server.handler_threads(threads), move |req| {
            if threads == 0 {
                Response::new(req.into_body())
            } else {
                count(req)
            }
        });
        let client = Client::connect(server.addr).expect("connect");
        let uri = format!("http://{}/", server.addr);
        let body = Body::from(vec![b'x'; BODY]);
        // A stranded upload fails the exchange (CANCEL) rather than hanging the test.
        let request = Request::post(uri)
            .extension(RequestTimeout(HANG_GUARD))
            .body(body)
            .expect("request");
        let response = client.send(request).expect("response");
        let got = response.into_body().bytes().expect("body");
        match threads {
            0 => assert_eq!(got.len(), BODY),
            _ => assert_eq!(got, BODY.to_string()),
        }
        client.close();
    }
}
