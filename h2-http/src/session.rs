//! One HTTP/2 connection's streams as a user sees them, the same on every runtime: the core's
//! events become `http` messages with bodies that stream, and bodies go out as flow control
//! allows (RFC 9113 §5.2). The adapter owns the socket, the timer and how other tasks or
//! threads reach the connection; it feeds events in, polls bodies out, and hands received
//! requests to its handlers.
//!
//! Received DATA goes to the body's reader as the core gave it and returns to flow control
//! only as the reader consumes it ([`Session::consumed`]), so the peer is never more than the
//! advertised windows ahead of the reader.

use crate::body::Release;
use crate::body::{Body, Chunk, Consumed, Inbox, Mode, Outgoing};
use crate::handle::{ConnectionInfo, RequestHandle, Route, StreamCommand};
use crate::oneshot;
use crate::reply::{self, PushPromise, PushedResponse, Reply, ReplyTx};
use crate::{Error, OnInformational, RequestOptions};
use bytes::Bytes;
use h2core::shell::ContentLength;
use h2core::{Connection, Event, Header, Reason, StreamId, StreamIdHasher};
use http::{Request, Response};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::task::Context;
use std::time::{Duration, Instant};

/// Where a client's pushed responses go: true if someone took it (else the promised stream
/// is cancelled).
pub type PushSink<M> = Box<dyn Fn(PushPromise<M>) -> bool + Send>;

/// The streams of one connection, and the core that carries them.
pub struct Session<M: Mode> {
    /// The protocol; the adapter feeds it bytes and time and writes what it produces.
    pub conn: Connection,
    /// Keyed with the core's stream-id hasher: SipHash cost more than the rest of a lookup.
    streams: HashMap<StreamId, Stream<M>, BuildHasherDefault<StreamIdHasher>>,
    release: Release,
    pushes: Option<PushSink<M>>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    lengths: ContentLength,
    /// Who waits for the round trip of our PING (`StreamCommand::Ping`).
    ping: Option<oneshot::Sender<Result<Duration, Error>>>,
    /// Client: how the [`RequestHandle`]s put in responses reach the connection.
    request_route: Option<Route<M>>,
    /// Server: what the requests so far repeated (`:authority`, fields), converted.
    request_cache: crate::RequestCache,
}

/// The payload of the PINGs the application asks for (RFC 9113 §6.7: opaque to the peer).
const PING: [u8; 8] = *b"h2-http!";

/// What a stream still needs from the session.
struct Stream<M: Mode> {
    /// Where received DATA goes: the request body (server) or the response body (client).
    inbox: Option<Inbox>,
    /// What we still send on it.
    out: Option<Outgoing>,
    /// Client: where the response head goes.
    reply: Option<ReplyTx<M>>,
    on_informational: Option<OnInformational>,
    /// The body was aborted: reset with this reason once what was sent before is out (a
    /// reset drops the stream's queued data).
    abort: Option<Reason>,
}

impl<M: Mode> Default for Stream<M> {
    fn default() -> Self {
        Stream {
            inbox: None,
            out: None,
            reply: None,
            on_informational: None,
            abort: None,
        }
    }
}

impl<M: Mode> Stream<M> {
    fn done(&self) -> bool {
        self.inbox.is_none() && self.out.is_none() && self.reply.is_none() && self.abort.is_none()
    }

    /// The stream is over before its messages are: the body sender fails, the reader sees
    /// the error, the caller gets it (with its request body, if none of it was taken).
    fn fail(self, err: impl Fn() -> Error) {
        if let Some(inbox) = self.inbox {
            inbox.fail(err());
        }
        if let Some(tx) = self.reply {
            let back = self.out.and_then(Outgoing::untouched);
            tx.send(Reply::Failed(err(), back));
        }
    }
}

impl<M: Mode> Session<M> {
    /// The streams of `conn`; what readers of received bodies consume goes to `release`,
    /// whose calls the adapter passes back to [`Session::consumed`].
    pub fn new(conn: Connection, release: Release) -> Session<M> {
        Session {
            conn,
            streams: HashMap::default(),
            release,
            pushes: None,
            upgrade_body: None,
            lengths: ContentLength::new(),
            ping: None,
            request_route: None,
            request_cache: crate::RequestCache::default(),
        }
    }

    /// Client: each response (pushed ones too) carries a [`RequestHandle`] in its extensions,
    /// whose commands (reprioritize, RFC 9218 §7.1) go through `route` back to this session's
    /// [`stream_command`](Session::stream_command).
    pub fn request_handles(&mut self, route: Route<M>) {
        self.request_route = Some(route);
    }

    /// Client: pushed responses go to `sink` (none: every promise is cancelled).
    pub fn pushes(&mut self, sink: PushSink<M>) {
        self.pushes = Some(sink);
    }

    /// Server: stream 1's request body, received over HTTP/1.1 before `Upgrade: h2c`
    /// (RFC 7540 §3.2).
    pub fn upgrade_body(&mut self, body: Bytes) {
        self.upgrade_body = Some(body);
    }

    /// Client: opens a stream with `head` and sends `body` on it; the response head goes to
    /// `reply` (a request that cannot start fails there at once, its body given back).
    pub fn send_request(
        &mut self,
        head: Vec<Header>,
        body: Body<M>,
        reply: ReplyTx<M>,
        options: RequestOptions,
        now: Instant,
    ) {
        if reply.is_closed() {
            // Nobody waits: not sent at all.
            return;
        }
        let end_stream = body.is_end_stream();
        match self.conn.send_request(head, end_stream) {
            Ok(id) => {
                if let Some(timeout) = options.timeout {
                    let _ = self.conn.set_deadline(id, now + timeout);
                }
                let s = self.streams.entry(id).or_default();
                s.reply = Some(reply);
                s.on_informational = options.on_informational;
                if !end_stream {
                    s.out = Some(body.into_outgoing());
                }
            }
            Err(e) => reply.send(Reply::Failed(Error::User(e), Some(body))),
        }
    }

    /// Client: the response on `stream` (stream 1 after an upgrade) goes to `reply`.
    pub fn expect_response(&mut self, stream: StreamId, reply: ReplyTx<M>) {
        self.streams.entry(stream).or_default().reply = Some(reply);
    }

    /// Client: resets with CANCEL the streams whose caller gave up before the head (RFC 9113
    /// §8.1, §5.4.2), so the server stops working on them; their request bodies are dropped
    /// (a sender still feeding one fails).
    pub fn abandoned(&mut self) {
        let conn = &mut self.conn;
        self.streams.retain(|&id, s| {
            let gone = s.reply.as_ref().is_some_and(|tx| tx.is_closed());
            if gone {
                let _ = conn.reset(id, Reason::CANCEL);
            }
            !gone
        });
    }

    /// Server: sends a handler's response on `stream`: its head now (with the content-length
    /// a non-empty body implies, `ContentLength`), its body as flow control allows. A stream
    /// that is gone drops the body, which fails its sender.
    pub fn send_response(&mut self, stream: StreamId, response: Response<Body<M>>) {
        let spare = self.conn.spare_fields(crate::response_head_len(&response));
        let mut head = crate::response_head_into(&response, spare);
        let body = response.into_body();
        // An empty body ends the stream with the HEADERS frame: END_STREAM already says there
        // is no content (RFC 9113 §8.1), so no content-length is implied. gRPC's trailers-only
        // response (an error, grpc-status in the head) must be exactly that.
        self.lengths
            .apply(&mut head, body.size_hint().filter(|&len| len > 0));
        self.send_head_and_body(stream, head, body);
    }

    fn send_head_and_body(&mut self, stream: StreamId, mut head: Vec<Header>, body: Body<M>) {
        let end_stream = body.is_end_stream();
        let whole = body.whole();
        let mut out = body.into_outgoing();
        if let Some(trailers) = out.take_end() {
            // Nothing but the end (trailers, if any) by the time the head goes: one HEADERS
            // frame with END_STREAM carries both (a trailers-only response, as gRPC sends for
            // an error), rather than an empty body between two header blocks.
            head.extend(
                trailers
                    .as_ref()
                    .map(crate::trailers_to_h2)
                    .unwrap_or_default(),
            );
            let _ = self.conn.send_response(stream, head, true);
            return;
        }
        if self.conn.send_response(stream, head, end_stream).is_err() || end_stream {
            return;
        }
        if let Some(whole) = whole {
            // Given whole: all of it goes to the core now, which cuts it into DATA frames as
            // the windows allow (no copy), with END_STREAM on the last.
            let _ = self.conn.send_data(stream, whole, true);
            return;
        }
        self.streams.entry(stream).or_default().out = Some(out);
    }

    /// Server: promises `request` on `parent` and sends `response` on the promised stream
    /// (RFC 9113 §8.4).
    pub fn push(
        &mut self,
        parent: StreamId,
        request: Vec<Header>,
        response: Response<Body<M>>,
    ) -> Result<(), Error> {
        let head = crate::response_to_h2(&response);
        let promised = self
            .conn
            .push_promise(parent, request)
            .map_err(Error::User)?;
        self.send_head_and_body(promised, head, response.into_body());
        Ok(())
    }

    /// Carries out what a handler's [`StreamHandle`](crate::handle::StreamHandle) asked: a
    /// 1xx response (refused by the core once the final response started, RFC 9113 §8.1), or
    /// a push, whose outcome goes back to the handle.
    pub fn stream_command(&mut self, cmd: StreamCommand<M>, now: Instant) {
        match cmd {
            StreamCommand::Informational { stream, head } => {
                let _ = self.conn.send_informational(stream, head);
            }
            StreamCommand::Push {
                parent,
                request,
                response,
                done,
            } => done.send(self.push(parent, request, response)),
            StreamCommand::Info { done } => done.send(Ok(ConnectionInfo {
                stats: self.conn.stats(),
                peer_settings: *self.conn.remote_settings(),
            })),
            StreamCommand::Ping { done } => match self.conn.ping(PING, now) {
                // One at a time: the core keeps one PING of ours outstanding.
                Ok(()) => self.ping = Some(done),
                Err(e) => done.send(Err(Error::User(e))),
            },
            StreamCommand::Reprioritize {
                stream,
                priority,
                done,
            } => {
                let urgency = priority.urgency.min(7);
                let result = self
                    .conn
                    .update_priority(stream, urgency, priority.incremental);
                done.send(result.map_err(Error::User));
            }
        }
    }

    /// The reader of `stream`'s received body consumed bytes: they go back to flow control
    /// (WINDOW_UPDATE when the window policy says so, RFC 9113 §6.9). A reader that dropped
    /// the body early reads no more: the core decides what the peer is told
    /// (`Connection::stop_receiving`: a client cancels, a server asks the client to stop once
    /// its response is complete, §8.1).
    pub fn consumed(&mut self, stream: StreamId, c: Consumed) {
        self.conn.release_capacity(stream, c.n);
        if !c.dropped {
            return;
        }
        if let Some(s) = self.streams.get_mut(&stream) {
            s.inbox = None;
        }
        let _ = self.conn.stop_receiving(stream);
    }

    /// Handles one event of the core; a request that arrived (server) comes back, for the
    /// adapter's handler.
    #[inline]
    pub fn event(&mut self, event: Event) -> Option<(StreamId, Request<Body<M>>)> {
        match event {
            Event::RequestReceived {
                stream,
                headers,
                end_stream,
            } => {
                let request = self.request_received(stream, &headers, end_stream);
                return request.map(|r| (stream, r));
            }
            Event::ResponseReceived {
                stream,
                headers,
                end_stream,
            } => self.response_received(stream, &headers, end_stream),
            Event::InformationalResponseReceived { stream, headers } => {
                if let Some(f) = self
                    .streams
                    .get(&stream)
                    .and_then(|s| s.on_informational.as_ref())
                {
                    f.deliver(&headers);
                }
            }
            // An empty DATA frame (often the one carrying END_STREAM) has nothing for the
            // reader; padding was returned to flow control by the core.
            Event::DataReceived { data, .. } if data.is_empty() => {}
            Event::DataReceived { stream, data, .. } => {
                let n = data.len();
                let taken = self
                    .streams
                    .get(&stream)
                    .and_then(|s| s.inbox.as_ref())
                    .is_some_and(|inbox| inbox.data(data));
                if !taken {
                    // Nobody will read it: back to flow control at once.
                    self.conn.release_capacity(stream, n);
                }
            }
            Event::TrailersReceived { stream, headers } => {
                if let Some(inbox) = self.streams.get_mut(&stream).and_then(|s| s.inbox.take()) {
                    match crate::fields_to_map(&headers) {
                        Ok(t) => inbox.trailers(t),
                        Err(e) => inbox.fail(e.into()),
                    }
                }
            }
            Event::StreamEnded { stream } => {
                if let Some(inbox) = self.streams.get_mut(&stream).and_then(|s| s.inbox.take()) {
                    inbox.end();
                }
            }
            Event::StreamReset { stream, reason, .. } => {
                if let Some(s) = self.streams.remove(&stream) {
                    s.fail(|| Error::Reset(reason));
                }
            }
            Event::PingAckReceived { payload: PING, rtt } => {
                if let Some(done) = self.ping.take() {
                    done.send(Ok(rtt));
                }
            }
            Event::DeadlinePassed { stream } => {
                if let Some(s) = self.streams.remove(&stream) {
                    s.fail(|| Error::DeadlinePassed);
                }
            }
            Event::PushedStreamReceived {
                promised, headers, ..
            } => self.promised(promised, &headers),
            Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            } => {
                // Whoever waits for a PING learns the connection is gone.
                self.ping = None;
                for (_, s) in self.streams.drain() {
                    s.fail(|| Error::Connection {
                        reason,
                        remote,
                        detail: detail.clone(),
                    });
                }
            }
            _ => {}
        }
        None
    }

    /// A body the peer sends on `stream`.
    fn receive(&mut self, stream: StreamId, end_stream: bool) -> Body<M> {
        if end_stream {
            return Body::empty();
        }
        let (inbox, body) = Body::received(stream, self.release.clone(), false);
        self.streams.entry(stream).or_default().inbox = Some(inbox);
        body
    }

    /// Server: the request whose head arrived on `stream`, its body streaming in (`None`:
    /// it cannot be an `http` request, and the stream was reset with PROTOCOL_ERROR).
    #[inline]
    pub fn request_received(
        &mut self,
        stream: StreamId,
        headers: &[Header],
        end_stream: bool,
    ) -> Option<Request<Body<M>>> {
        let Ok(parts) = crate::request_parts(headers, Some(&mut self.request_cache)) else {
            let _ = self.conn.reset(stream, Reason::PROTOCOL_ERROR);
            return None;
        };
        let body = match self.upgrade_body.take() {
            // The `Upgrade: h2c` request, whose body came over HTTP/1.1 (RFC 7540 §3.2).
            Some(b) if stream.value() == 1 => Body::from(b),
            other => {
                self.upgrade_body = other;
                self.receive(stream, end_stream)
            }
        };
        Some(Request::from_parts(parts, body))
    }

    fn response_received(&mut self, stream: StreamId, headers: &[Header], end_stream: bool) {
        let Some(reply) = self.streams.get_mut(&stream).and_then(|s| s.reply.take()) else {
            return;
        };
        let body = self.receive(stream, end_stream);
        let answer = match crate::response_from_h2(headers).map(|b| b.body(body)) {
            Ok(Ok(mut resp)) => {
                if let Some(route) = &self.request_route {
                    let handle = RequestHandle::new(stream, route.clone());
                    resp.extensions_mut().insert(handle);
                }
                Reply::Head(resp)
            }
            Ok(Err(_)) => Reply::Failed(Error::Malformed("response"), None),
            Err(e) => Reply::Failed(e.into(), None),
        };
        // A caller already gone drops the body with the answer: the stream is cancelled.
        reply.send(answer);
    }

    /// Client: the server promised a response (RFC 9113 §8.4): delivered while someone
    /// listens, else refused with RST_STREAM CANCEL.
    fn promised(&mut self, promised: StreamId, headers: &[Header]) {
        let request = crate::request_from_h2(headers).map(|p| Request::from_parts(p, ()));
        if let (Some(sink), Ok(request)) = (&self.pushes, request) {
            let (tx, pending) = reply::channel(None);
            self.streams.entry(promised).or_default().reply = Some(tx);
            let promise = PushPromise {
                request,
                response: PushedResponse(pending),
            };
            if sink(promise) {
                return;
            }
            self.streams.remove(&promised);
        }
        let _ = self.conn.reset(promised, Reason::CANCEL);
    }

    /// Sends body chunks on streams that have send capacity: a body is taken only as fast
    /// as flow control lets it go out; `cx` is woken when a body that had nothing has more.
    /// True if anything was sent.
    pub fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let conn = &mut self.conn;
        for (&id, s) in self.streams.iter_mut() {
            while let Some(out) = s.out.as_mut() {
                let capacity = conn.send_capacity(id) > 0;
                let more = match out.poll_chunk(cx, capacity) {
                    std::task::Poll::Pending => break,
                    std::task::Poll::Ready(chunk) => match chunk {
                        Chunk::Data(d, false) if d.is_empty() => true,
                        Chunk::Data(d, last) => conn.send_data(id, d, last).is_ok() && !last,
                        Chunk::Trailers(t) => {
                            let _ = conn.send_trailers(id, crate::trailers_to_h2(&t));
                            false
                        }
                        Chunk::End => {
                            let _ = conn.send_data(id, Bytes::new(), true);
                            false
                        }
                        Chunk::Abort(reason) => {
                            s.abort = Some(reason);
                            false
                        }
                    },
                };
                progress = true;
                if !more {
                    // Dropped: a sender still feeding it fails.
                    s.out = None;
                }
            }
            if let Some(reason) = s.abort.filter(|_| conn.send_buffered(id) == 0) {
                s.abort = None;
                let _ = conn.reset(id, reason);
                progress = true;
            }
        }
        progress
    }

    /// Forgets finished streams (call after each round).
    pub fn cleanup(&mut self) {
        self.streams.retain(|_, s| !s.done());
    }
}
