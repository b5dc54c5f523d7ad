//! Bodies stream both ways under flow control (RFC 9113 §5.2): unread uploads stall at the
//! server's windows instead of filling its memory; a handler echoes an upload while reading it
//! (HTTP/2 and HTTP/1.1 with 100-continue); the client reads a long-lived response as it
//! arrives, cancels one it drops, receives pushes and sees 1xx responses. Real TCP on
//! 127.0.0.1, every wait bounded.

#![allow(clippy::disallowed_methods)]

mod common;

use bytes::{Bytes, BytesMut};
use h2_mio::{Body, Client, Error, Frame, OnInformational, Server, StreamHandle};
use h2core::{Config, Connection, Event, Header};
use http::{Request, Response, StatusCode};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Any wait longer than this fails the test instead of hanging it.
const BOUND: Duration = Duration::from_secs(30);

/// A byte pattern, so a reordered or lost chunk is caught.
fn pattern(len: usize) -> Bytes {
    Bytes::from((0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

/// A latch the test opens once.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let guard = self.open.lock().unwrap();
        let (guard, _) = self
            .opened
            .wait_timeout_while(guard, BOUND, |open| !*open)
            .unwrap();
        assert!(*guard, "the gate was never opened");
    }
}

fn serve(
    threads: usize,
    handler: impl Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
) -> common::Running {
    let server = Server::bind("127.0.0.1:0")
        .expect("bind")
        .handler_threads(threads);
    common::start(server, handler)
}

/// A client on the core alone, so the test sees the protocol: what the server's windows let
/// it send (`Stats::data_sent`) and why each stream waits (`stream_send_state`).
struct CoreClient {
    conn: Connection,
    socket: TcpStream,
    buf: BytesMut,
}

impl CoreClient {
    fn connect(addr: SocketAddr) -> CoreClient {
        let socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        let conn = Connection::new(Config::client(), Instant::now());
        CoreClient {
            conn,
            socket,
            buf: BytesMut::new(),
        }
    }

    /// Writes what the core has, reads what arrived; returns the core's events.
    fn turn(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.conn.poll_transmit(Instant::now(), &mut out);
        for b in &out {
            self.socket.write_all(b).expect("write");
        }
        let mut chunk = [0u8; 64 * 1024];
        match self.socket.read(&mut chunk) {
            Ok(0) => self.conn.handle_eof(Instant::now()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.conn
                    .handle_input(Instant::now(), &mut self.buf)
                    .expect("input");
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.conn.handle_timeout(Instant::now());
            }
            Err(e) => panic!("read: {e}"),
        }
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }
}

#[test]
fn unread_uploads_stall_at_the_servers_flow_control_windows() {
    const UPLOADS: usize = 20;
    const SIZE: usize = 8_000_000;
    const CHUNK: usize = 64 * 1024;
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Gate::default());
    let (s, g) = (started.clone(), gate.clone());
    // Holds the body unread until the test opens the gate, then counts it.
    let server = serve(UPLOADS + 4, move |req| {
        s.fetch_add(1, Ordering::SeqCst);
        g.wait();
        let mut body = req.into_body();
        let mut n = 0;
        while let Some(d) = body.data() {
            n += d.expect("upload").len();
        }
        Response::new(Body::from(n.to_string()))
    });
    // What the server grants in all until its reader consumes: its connection window.
    let window = Config::server().connection_window as u64;
    let mut c = CoreClient::connect(server.addr);
    let deadline = Instant::now() + BOUND;
    while c.conn.remote_settings().max_concurrent_streams.is_none() {
        assert!(Instant::now() < deadline, "no SETTINGS from the server");
        c.turn();
    }
    let head = || {
        vec![
            Header::new(":method", "POST"),
            Header::new(":scheme", "http"),
            Header::new(":authority", "localhost"),
            Header::new(":path", "/upload"),
        ]
    };
    let ids: Vec<_> = (0..UPLOADS)
        .map(|_| c.conn.send_request(head(), false).expect("request"))
        .collect();
    let data = pattern(CHUNK);
    let mut queued = vec![0usize; UPLOADS];
    // Keeps every upload's queue full, so only the windows hold it back.
    let feed = |c: &mut CoreClient, queued: &mut [usize]| {
        for (i, &id) in ids.iter().enumerate() {
            while queued[i] < SIZE && c.conn.send_buffered(id) < 4 * CHUNK {
                let n = CHUNK.min(SIZE - queued[i]);
                queued[i] += n;
                c.conn
                    .send_data(id, data.slice(..n), queued[i] == SIZE)
                    .expect("data");
            }
        }
    };
    let blocked = |c: &CoreClient| {
        ids.iter().all(|&id| {
            matches!(
                c.conn.stream_send_state(id),
                h2core::SendState::ConnectionWindow | h2core::SendState::StreamWindow
            )
        })
    };
    // Every upload stalls: the client's send capacity is zero on every stream.
    while !(blocked(&c) && started.load(Ordering::SeqCst) == UPLOADS) {
        assert!(Instant::now() < deadline, "the uploads never stalled");
        feed(&mut c, &mut queued);
        c.turn();
    }
    let sent = c.conn.stats().data_sent;
    assert!(
        sent <= window,
        "{sent} bytes sent, more than the {window}-byte window"
    );
    // And they stay stalled while nothing is read: no credit comes back. The PING's ACK says
    // the server has read everything sent before it, and any WINDOW_UPDATE it had sent came
    // first (frames are in order): an event, not a number of turns or a time.
    c.conn.ping(*b"barrier!", Instant::now()).expect("ping");
    let mut acked = false;
    while !acked {
        assert!(Instant::now() < deadline, "no PING ACK from the server");
        for ev in c.turn() {
            match ev {
                Event::PingAckReceived { .. } => acked = true,
                Event::StreamEnded { .. } | Event::DataReceived { .. } => {
                    panic!("a stalled upload was answered: {ev:?}")
                }
                _ => {}
            }
        }
    }
    assert!(blocked(&c));
    assert_eq!(
        c.conn.stats().data_sent,
        sent,
        "credit came back with nothing read"
    );
    // Once the handlers read, the windows reopen and every upload completes.
    gate.open();
    let mut answers = std::collections::HashMap::new();
    let mut ended = 0;
    while ended < UPLOADS {
        assert!(Instant::now() < deadline, "uploads incomplete: {answers:?}");
        feed(&mut c, &mut queued);
        for ev in c.turn() {
            match ev {
                Event::DataReceived { stream, data, .. } => {
                    c.conn.release_capacity(stream, data.len());
                    answers
                        .entry(stream)
                        .or_insert_with(Vec::new)
                        .extend_from_slice(&data);
                }
                Event::StreamEnded { .. } => ended += 1,
                Event::StreamReset { stream, reason, .. } => panic!("{stream:?} reset: {reason:?}"),
                _ => {}
            }
        }
    }
    for id in ids {
        assert_eq!(answers[&id], SIZE.to_string().as_bytes());
    }
}

/// Echoes the request body as it reads it, from a thread of its own.
fn echo(req: Request<Body>) -> Response<Body> {
    let (mut tx, body) = Body::channel();
    let mut upload = req.into_body();
    std::thread::spawn(move || {
        while let Some(Ok(d)) = upload.data() {
            if tx.send_data(d).is_err() {
                return;
            }
        }
    });
    Response::new(body)
}

#[test]
fn handler_echoes_a_three_megabyte_upload_while_reading_it() {
    let server = serve(4, echo);
    let client = Client::connect(server.addr).expect("connect");
    let upload = pattern(3_000_000);
    let (mut tx, body) = Body::channel();
    let req = Request::post(format!("http://{}/echo", server.addr)).body(body);
    let pending = client.start(req.expect("request")).expect("start");
    let (first, second) = (upload.slice(..1_500_000), upload.slice(1_500_000..));
    let half = first.clone();
    let (sent_first, rx) = mpsc::channel::<()>();
    let producer = std::thread::spawn(move || {
        for piece in half.chunks(50_000) {
            tx.send_data(half.slice_ref(piece)).expect("send");
        }
        sent_first.send(()).unwrap();
        tx
    });
    let resp = pending.wait().expect("response head");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let mut got = BytesMut::new();
    // Echoed back before the upload is finished: the handler streams.
    while got.len() < first.len() {
        got.extend_from_slice(&body.data().expect("more").expect("data"));
    }
    rx.recv_timeout(BOUND).expect("first half sent");
    let mut tx = producer.join().unwrap();
    // The second half from another thread while this one reads the echo, as any echo client
    // must: windows and queues in both directions hold less than 1.5 MB.
    let producer = std::thread::spawn(move || {
        for piece in second.chunks(50_000) {
            tx.send_data(second.slice_ref(piece)).expect("send");
        }
    });
    while let Some(d) = body.data() {
        got.extend_from_slice(&d.expect("data"));
    }
    producer.join().unwrap();
    assert!(got == upload, "echo differs from the upload");
}

/// Decodes a chunked body (RFC 9112 §7.1) from `buf`, if it is complete.
fn dechunk(mut buf: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).ok()?, 16).ok()?;
        buf = &buf[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if buf.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
}

#[test]
fn http11_upload_with_100_continue_is_echoed_while_it_arrives() {
    let server = serve(4, echo);
    let upload = pattern(3_000_000);
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(BOUND)).unwrap();
    let head = format!(
        "POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n",
        upload.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    // 100 Continue: the handler started reading (RFC 9110 §10.1.1).
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 100 Continue\r\n"), "{got:?}");
    let interim = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    got.drain(..interim);
    // The first half, then some of the echo before the rest is sent.
    // One thread writes while this one reads, as any echo client must (the buffers on the way
    // hold less than the upload): the first half, then the rest once some echo came back.
    let mut writer = s.try_clone().unwrap();
    let sent = upload.clone();
    let (go_on, wait) = mpsc::channel::<()>();
    let sender = std::thread::spawn(move || {
        writer.write_all(&sent[..1_500_000]).expect("first half");
        wait.recv_timeout(BOUND).expect("some echo first");
        writer.write_all(&sent[1_500_000..]).expect("second half");
    });
    while got.len() < 200_000 {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed early");
        got.extend_from_slice(&chunk[..n]);
    }
    go_on.send(()).expect("sender waits");
    let split = got.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let text = String::from_utf8_lossy(&got[..split]).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    let mut body = got.split_off(split);
    let echoed = loop {
        if let Some(b) = dechunk(&body) {
            break b;
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed before the last chunk");
        body.extend_from_slice(&chunk[..n]);
    };
    sender.join().expect("sender");
    assert!(echoed == upload, "echo differs from the upload");
}

#[test]
fn client_reads_a_long_lived_stream_before_it_ends() {
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    let server = serve(4, move |_| {
        let (mut tx, body) = Body::channel();
        let g = g.clone();
        std::thread::spawn(move || {
            tx.send_data(Bytes::from_static(b"first\n")).unwrap();
            g.wait();
            tx.send_data(Bytes::from_static(b"second\n")).unwrap();
            let mut trailers = http::HeaderMap::new();
            trailers.insert("x-end", "yes".parse().unwrap());
            tx.send_trailers(trailers).unwrap();
        });
        Response::new(body)
    });
    let client = Client::connect(server.addr).expect("connect");
    let req = Request::get(format!("http://{}/stream", server.addr)).body(Body::empty());
    let resp = client.send(req.unwrap()).expect("head");
    let mut body = resp.into_body();
    // The response is still open (the server waits on the gate): the chunk is here anyway.
    assert_eq!(body.data().expect("chunk").expect("data"), "first\n");
    gate.open();
    assert_eq!(body.data().expect("chunk").expect("data"), "second\n");
    match body.frame() {
        Some(Ok(Frame::Trailers(t))) => assert_eq!(t["x-end"], "yes"),
        other => panic!("expected trailers, got {other:?}"),
    }
    assert!(body.frame().is_none());
}

#[test]
fn dropping_a_response_body_midway_cancels_the_servers_sender() {
    let (failed, failures) = mpsc::channel::<Error>();
    let failed = Arc::new(Mutex::new(failed));
    let server = serve(4, move |req| {
        if req.uri().path() == "/small" {
            return Response::new(Body::from("still here"));
        }
        let (mut tx, body) = Body::channel();
        let failed = failed.lock().unwrap().clone();
        std::thread::spawn(move || loop {
            if let Err(e) = tx.send_data(Bytes::from(vec![b'x'; 16 * 1024])) {
                let _ = failed.send(e);
                return;
            }
        });
        Response::new(body)
    });
    let client = Client::connect(server.addr).expect("connect");
    let req = Request::get(format!("http://{}/forever", server.addr)).body(Body::empty());
    let mut body = client.send(req.unwrap()).expect("head").into_body();
    body.data().expect("chunk").expect("data");
    drop(body);
    // RST_STREAM(CANCEL) reached the server: its sender fails.
    let err = failures.recv_timeout(BOUND).expect("the sender fails");
    assert!(matches!(err, Error::BodyDropped), "{err:?}");
    // Only the stream ended: the connection serves the next request.
    let req = Request::get(format!("http://{}/small", server.addr)).body(Body::empty());
    let resp = client.send(req.unwrap()).expect("next");
    assert_eq!(resp.into_body().bytes().unwrap(), "still here");
    assert_eq!(client.stats().connections_opened, 1);
}

#[test]
fn pushed_responses_reach_client_pushes() {
    let server = serve(4, |req| {
        if let Some(handle) = StreamHandle::of(&req) {
            let promised = Request::get(format!(
                "http://{}/style.css",
                req.uri().authority().unwrap()
            ))
            .body(())
            .unwrap();
            handle
                .push(promised, Response::new(Body::from("body { color: red }")))
                .expect("push");
        }
        Response::new(Body::from("<html>"))
    });
    let client = Client::connect(server.addr).expect("connect");
    // Nobody listens yet: the promise is refused (CANCEL), the page still arrives.
    let req = || {
        Request::get(format!("http://{}/", server.addr))
            .body(Body::empty())
            .unwrap()
    };
    let page = client.send(req()).expect("page");
    assert_eq!(page.into_body().bytes().unwrap(), "<html>");
    let mut pushes = client.pushes();
    let page = client.send(req()).expect("page");
    assert_eq!(page.into_body().bytes().unwrap(), "<html>");
    let promise = pushes.recv_timeout(BOUND).expect("a push");
    assert_eq!(promise.request.uri().path(), "/style.css");
    let pushed = promise.response.wait().expect("pushed response");
    assert_eq!(pushed.status(), StatusCode::OK);
    assert_eq!(pushed.into_body().bytes().unwrap(), "body { color: red }");
}

/// A server on the core alone that answers every request with 103 Early Hints, then 200.
fn early_hints_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let Ok((socket, _)) = listener.accept() else {
            return;
        };
        common::serve_core(socket, BOUND, |conn, ev| {
            if let Event::RequestReceived { stream, .. } = ev {
                let hints = vec![
                    Header::new(":status", "103"),
                    Header::new("link", "</style.css>; rel=preload"),
                ];
                conn.send_informational(stream, hints).expect("103");
                let head = vec![Header::new(":status", "200")];
                let _ = conn.send_response(stream, head, false);
                let _ = conn.send_data(stream, Bytes::from_static(b"ok"), true);
            }
        });
    });
    addr
}

#[test]
fn early_hints_reach_on_informational_before_the_final_response() {
    let addr = early_hints_server();
    let client = Client::connect(addr).expect("connect");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut req = Request::get(format!("http://{addr}/"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(OnInformational::new(move |r| {
        let link = r.headers()["link"].to_str().unwrap().to_owned();
        s.lock().unwrap().push((r.status(), link));
    }));
    let resp = client.send(req).expect("response");
    // Delivered on the loop before the head was handed over.
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(
            StatusCode::EARLY_HINTS,
            "</style.css>; rel=preload".to_owned()
        )]
    );
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.into_body().bytes().unwrap(), "ok");
}
