//! A client and a server [`Connection`] wired back to back in memory, with no I/O: the
//! `Bytes` chunks one side's `poll_transmit` hands out are appended to the other side's receive
//! buffer and fed to its `handle_input`. The append is the one copy a socket would make.
//!
//! [`Exchange`] drives request/response pairs over such a pair the way an application would:
//! the server answers each `RequestReceived` at once with a response and a body, the client
//! gives every `DataReceived` back with `release_capacity` as it reads it (RFC 9113 §6.9), and
//! keeps a fixed number of streams in flight.

use bytes::{Bytes, BytesMut};
use h2core::{Config, Connection, Event, Header, StreamId};
use std::time::Instant;

/// Two connections and the bytes in flight between them.
pub struct Pair {
    /// The client side.
    pub client: Connection,
    /// The server side.
    pub server: Connection,
    to_server: BytesMut,
    to_client: BytesMut,
    chunks: Vec<Bytes>,
}

impl Pair {
    /// A client and a server with default configs (`Config::client()`, `Config::server()`).
    pub fn new(now: Instant) -> Pair {
        Pair::with_configs(Config::client(), Config::server(), now)
    }

    /// A client and a server with these configs; nothing has moved yet.
    pub fn with_configs(client: Config, server: Config, now: Instant) -> Pair {
        Pair {
            client: Connection::new(client, now),
            server: Connection::new(server, now),
            to_server: BytesMut::new(),
            to_client: BytesMut::new(),
            chunks: Vec::new(),
        }
    }

    /// Moves what the client has to send into the server; returns the bytes moved.
    pub fn flush_client(&mut self, now: Instant) -> usize {
        let n = move_bytes(&mut self.client, &mut self.to_server, &mut self.chunks, now);
        if n > 0 {
            if let Err(e) = self.server.handle_input(now, &mut self.to_server) {
                panic!("server: connection error {e:?}");
            }
        }
        n
    }

    /// Moves what the server has to send into the client; returns the bytes moved.
    pub fn flush_server(&mut self, now: Instant) -> usize {
        let n = move_bytes(&mut self.server, &mut self.to_client, &mut self.chunks, now);
        if n > 0 {
            if let Err(e) = self.client.handle_input(now, &mut self.to_client) {
                panic!("client: connection error {e:?}");
            }
        }
        n
    }

    /// Runs the connection preface and SETTINGS exchange (RFC 9113 §3.4, §6.5.3) to the end:
    /// bytes go back and forth until neither side has anything to send, and the events it
    /// produced (settings changed and acknowledged) are dropped.
    pub fn handshake(&mut self, now: Instant) {
        while self.flush_client(now) + self.flush_server(now) > 0 {}
        while self.client.poll_event().is_some() {}
        while self.server.poll_event().is_some() {}
    }

    /// The two connections, without the transfer buffers (for measuring their own memory).
    pub fn into_connections(self) -> (Connection, Connection) {
        (self.client, self.server)
    }
}

/// `from`'s pending output appended to `to_buf` (the peer's receive buffer).
fn move_bytes(
    from: &mut Connection,
    to_buf: &mut BytesMut,
    chunks: &mut Vec<Bytes>,
    now: Instant,
) -> usize {
    chunks.clear();
    let n = from.poll_transmit(now, chunks);
    to_buf.reserve(n);
    for chunk in chunks.drain(..) {
        to_buf.extend_from_slice(&chunk);
    }
    n
}

/// One kind of request/response pair: a GET and a 200 with a fixed body.
pub struct Exchange {
    request: Vec<Header>,
    response: Vec<Header>,
    body: Bytes,
}

impl Exchange {
    /// `GET http://localhost/` answered by `200` with `content-length` and `body`.
    pub fn new(body: Bytes) -> Exchange {
        Exchange {
            request: vec![
                Header::new(":method", "GET"),
                Header::new(":scheme", "http"),
                Header::new(":authority", "localhost"),
                Header::new(":path", "/"),
            ],
            response: vec![
                Header::new(":status", "200"),
                Header::new("content-length", body.len().to_string()),
            ],
            body,
        }
    }

    /// Runs `n` request/response pairs over `pair`, keeping `concurrency` streams open (a new
    /// request starts as soon as a response ends). Returns the body bytes the client read.
    ///
    /// Panics if the connections stop making progress or either raises a connection error.
    pub fn run(&self, pair: &mut Pair, n: usize, concurrency: usize, now: Instant) -> u64 {
        let (mut started, mut done, mut read) = (0, 0, 0u64);
        while started < n.min(concurrency) {
            self.start(pair);
            started += 1;
        }
        while done < n {
            let mut progress = pair.flush_client(now);
            while let Some(event) = pair.server.poll_event() {
                progress += 1;
                self.serve(&mut pair.server, event);
            }
            progress += pair.flush_server(now);
            while let Some(event) = pair.client.poll_event() {
                progress += 1;
                match event {
                    Event::DataReceived { stream, data, .. } => {
                        read += data.len() as u64;
                        pair.client.release_capacity(stream, data.len());
                    }
                    Event::StreamEnded { .. } => {
                        done += 1;
                        if started < n {
                            self.start(pair);
                            started += 1;
                        }
                    }
                    Event::StreamReset { stream, reason, .. } => {
                        panic!("stream {stream:?} reset: {reason:?}")
                    }
                    Event::ConnectionTerminated { detail, .. } => {
                        panic!("connection terminated: {detail}")
                    }
                    _ => {}
                }
            }
            assert!(progress > 0, "stalled after {done} of {n} responses");
        }
        read
    }

    fn start(&self, pair: &mut Pair) -> StreamId {
        pair.client
            .send_request(self.request.clone(), true)
            .expect("request accepted")
    }

    /// The server's side of the application: answer each request at once.
    fn serve(&self, server: &mut Connection, event: Event) {
        match event {
            Event::RequestReceived { stream, .. } => {
                server
                    .send_response(stream, self.response.clone(), self.body.is_empty())
                    .expect("response accepted");
                if !self.body.is_empty() {
                    server
                        .send_data(stream, self.body.clone(), true)
                        .expect("body accepted");
                }
            }
            Event::DataReceived { stream, data, .. } => {
                server.release_capacity(stream, data.len());
            }
            Event::ConnectionTerminated { detail, .. } => {
                panic!("server connection terminated: {detail}")
            }
            _ => {}
        }
    }
}
