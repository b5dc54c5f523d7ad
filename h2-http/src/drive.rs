//! One HTTP/2 connection as every adapter drives it, the same on every runtime: what the socket
//! gave goes into the core (RFC 9113), the core's events go to the streams ([`Session`]) and
//! to the client pool's view of the connection ([`Seat`]), bodies go out as flow control
//! allows, and the core's frames go into the shell's [`Transport`].
//!
//! The [`Shell`](crate::shell::Shell) drives it for every adapter, each round:
//! [`Drive::feed_unparsed`], then [`Drive::received`] (or [`Drive::eof`]) with what was read
//! while [`Drive::wants_read`]; [`Drive::command`] with what other tasks or threads asked;
//! [`Drive::poll`] (requests for the handlers) and [`Drive::flush`]; the transport's slices
//! are written and the one timer follows the core's deadline (or the close sequence's).

use crate::body::{Body, Consumed, Mode, Origin};
use crate::deadline::Deadline;
use crate::handle::{Route, StreamCommand};
use crate::pool::Seat;
use crate::reply::ReplyTx;
use crate::session::{PushSink, Session};
use crate::{Error, RequestOptions};
use bytes::BytesMut;
use h2core::shell::Transport;
use h2core::{Connection, Event, Header, Reason, StreamId};
use http::{Request, Response};
use std::any::Any;
use std::sync::Arc;
use std::task::Context;
use std::time::Instant;

/// Where every raw event goes instead of the streams: a test driving the core through an
/// adapter (the scenario corpus).
pub type Tap = Box<dyn FnMut(Event) + Send>;

/// What [`Drive::poll`] hands the adapter.
// Passed on, never stored: boxing the request would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum Input<M: Mode> {
    /// Server: a request whose head arrived, for the handler; its body streams in. It carries
    /// a [`Deadline`] when it had a `grpc-timeout`.
    Request(StreamId, Request<Body<M>>),
    /// The stream is gone (reset by either side, RFC 9113 §5.4.2): its handler's work is moot.
    Reset(StreamId),
    /// The connection is over (§5.4.1, §6.8): no stream goes on.
    Closed,
}

/// A call on the core, run inside the connection in order with everything else it does (the
/// scenario corpus drives the core this way through an adapter).
pub type CoreCall = Box<dyn FnOnce(&mut Connection, Instant) + Send>;

/// What the connection's other parts ask of it, from other tasks or threads: the client's
/// handles, handlers' answers and `StreamHandle`s, the readers of received bodies. Each adapter
/// carries these over its own channel to [`Drive::command`].
// Carried by value through a channel: boxing the request would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Command<M: Mode> {
    /// Client: open a stream with this request (RFC 9113 §8.1); the response head goes to
    /// `reply`, where a request refused before any of its body was read fails with the body
    /// given back (§8.7), to be sent elsewhere.
    Request {
        /// The request's header list.
        head: Vec<Header>,
        /// Its body, streamed as flow control allows.
        body: Body<M>,
        /// Where the response head goes.
        reply: ReplyTx<M>,
        /// Its 1xx callback and deadline.
        options: RequestOptions,
        /// The pool reserved a slot for it, given back once the stream is open (or failed).
        reserved: bool,
    },
    /// Client: a caller gave up before its response head: the streams nobody waits for any
    /// more are reset with CANCEL (§8.1, §5.4.2).
    Abandoned,
    /// Client: the response on `stream` (stream 1 after an upgrade) goes to `reply`.
    Expect {
        /// The stream whose response is awaited.
        stream: StreamId,
        /// Where its head goes.
        reply: ReplyTx<M>,
    },
    /// What a handler's or a client's handle asked: a 1xx response, a push (§8.1, §8.4), a
    /// PING round trip (§6.7), the connection's counters.
    Stream(StreamCommand<M>),
    /// Server: the handler's response to the request on `stream`.
    Respond {
        /// The request's stream.
        stream: StreamId,
        /// The response; its body streams.
        response: Response<Body<M>>,
    },
    /// The reader of the body received on `stream` consumed bytes, or dropped it.
    Consumed {
        /// The body's stream.
        stream: StreamId,
        /// What it consumed.
        consumed: Consumed,
    },
    /// Graceful shutdown (GOAWAY, §6.8).
    Shutdown,
    /// Runs a call on the core.
    Core(CoreCall),
}

impl<M: Mode> Command<M> {
    /// The connection is gone before taking this: a request fails with its body given back
    /// (the pool may send it elsewhere); anything else is dropped, which its waiter sees.
    pub fn fail(self) {
        if let Command::Request { reply, body, .. } = self {
            let err = Error::User(h2core::UserError::ConnectionClosed);
            reply.send(crate::reply::Reply::Failed(err, Some(body)));
        }
    }
}

/// One HTTP/2 connection: its streams, and what the round needs besides the socket.
pub struct Drive<M: Mode> {
    /// The streams and the core that carries them.
    pub session: Session<M>,
    /// The read buffer holds bytes read before this existed (the sniffed preface, what came
    /// after a 101), fed as one read at the first round: the replies they cause must be
    /// handed out before more is read, or the core's flood limits would count them unwritten.
    unparsed: bool,
    /// Client: the connection's place in its pool.
    seat: Option<Seat>,
    tap: Option<Tap>,
    /// Server: each request's body carries this connection's `Route<M>`, shared (one `Arc`
    /// for the connection, a reference count per request), for its `StreamHandle`.
    handles: Option<Arc<dyn Any + Send + Sync>>,
    /// Why the connection failed, if it did.
    error: Option<Error>,
}

impl<M: Mode> Drive<M> {
    /// Drives `session`; `unparsed`: the read buffer already holds bytes for the core.
    pub fn new(session: Session<M>, unparsed: bool) -> Drive<M> {
        Drive {
            session,
            unparsed,
            seat: None,
            tap: None,
            handles: None,
            error: None,
        }
    }

    /// Client: the connection takes requests for a pool through `seat`.
    pub fn seat(&mut self, seat: Seat) {
        self.seat = Some(seat);
    }

    /// Client, as every adapter makes one: each response carries a `RequestHandle`
    /// (reprioritize, RFC 9218 §7.1) whose commands go through `route`; pushed responses go
    /// to `pushes` (none: every promise is cancelled, RFC 9113 §8.4); the pool sees the
    /// connection through `seat`.
    pub fn client(&mut self, route: Route<M>, pushes: Option<PushSink<M>>, seat: Seat) {
        self.session.request_handles(route);
        if let Some(sink) = pushes {
            self.session.pushes(sink);
        }
        self.seat(seat);
    }

    /// Server: each request carries a `StreamHandle` (1xx, push), which
    /// [`StreamHandle::of`](crate::handle::StreamHandle::of) finds, whose commands go through
    /// `route`, back to [`Drive::command`].
    pub fn stream_handles(&mut self, route: Route<M>) {
        self.handles = Some(Arc::new(route));
    }

    /// Every event of the core goes to `tap`, raw, instead of the streams.
    pub fn tap(&mut self, tap: Tap) {
        self.tap = Some(tap);
    }

    /// The core.
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.session.conn
    }

    /// True when the adapter should read the socket now: the core takes input, the peer has
    /// not closed, and the connection is not lingering (then the adapter reads to discard).
    pub fn wants_read(&self, read_closed: bool, transport: &Transport) -> bool {
        !self.unparsed
            && !read_closed
            && !transport.is_lingering()
            && self.session.conn.wants_read()
    }

    /// Feeds bytes the read buffer held before this existed; true if there were (call it
    /// first in each round: nothing is read before their replies are handed out).
    pub fn feed_unparsed(&mut self, read_buf: &mut BytesMut, now: Instant) -> bool {
        if !std::mem::take(&mut self.unparsed) {
            return false;
        }
        self.received(read_buf, now);
        true
    }

    /// Feeds what the adapter read into `read_buf` to the core.
    pub fn received(&mut self, read_buf: &mut BytesMut, now: Instant) {
        if !read_buf.is_empty() {
            let _ = self.session.conn.handle_input(now, read_buf);
        }
    }

    /// Does what another part of the connection asked.
    pub fn command(&mut self, cmd: Command<M>, now: Instant) {
        let session = &mut self.session;
        match cmd {
            Command::Request {
                head,
                body,
                reply,
                options,
                reserved,
            } => {
                session.send_request(head, body, reply, options, now);
                if let Some(seat) = self.seat.as_mut() {
                    seat.update(&session.conn);
                    if reserved {
                        seat.release();
                    }
                }
            }
            Command::Abandoned => session.abandoned(),
            Command::Expect { stream, reply } => session.expect_response(stream, reply),
            Command::Stream(cmd) => session.stream_command(cmd, now),
            Command::Respond { stream, response } => session.send_response(stream, response),
            Command::Consumed { stream, consumed } => session.consumed(stream, consumed),
            Command::Shutdown => {
                let _ = session.conn.shutdown(now);
            }
            Command::Core(call) => call(&mut session.conn, now),
        }
    }

    /// The peer closed its side, or reading failed (`err`).
    pub fn eof(&mut self, now: Instant, err: Option<std::io::Error>) {
        self.session.conn.handle_eof(now);
        if let Some(e) = err {
            self.error.get_or_insert(Error::Io(e));
        }
    }

    /// Hands the core's events to the transport, the pool's view and the streams; what the
    /// adapter must act on goes to `on`, which may answer a request at once (`Some`; else its
    /// handler answers later, [`Session::send_response`]). True if the core had any event.
    #[inline]
    pub fn poll(
        &mut self,
        transport: &mut Transport,
        now: Instant,
        mut on: impl FnMut(Input<M>) -> Option<Response<Body<M>>>,
    ) -> bool {
        let mut any = false;
        while let Some(event) = self.session.conn.poll_event() {
            any = true;
            transport.observe(&self.session.conn, &event);
            if let Some(seat) = &self.seat {
                seat.observe(&self.session.conn, &event);
            }
            if let Some(tap) = self.tap.as_mut() {
                tap(event);
                continue;
            }
            let input = match event {
                Event::RequestReceived {
                    stream,
                    headers,
                    end_stream,
                } => {
                    // Taken here rather than through `Session::event`: the request is moved once.
                    let Some(mut request) =
                        self.session.request_received(stream, &headers, end_stream)
                    else {
                        continue;
                    };
                    // Looked for in the core's list first: most requests have no deadline,
                    // and scanning a few names costs less than a lookup in the HeaderMap.
                    // Names arrive lowercase (RFC 9113 §8.2.1), so the match is exact.
                    if headers.iter().any(|h| h.name[..] == *b"grpc-timeout") {
                        Deadline::mark(&mut request, || now);
                    }
                    // In the body, not the extensions: no allocation per request.
                    if let Some(route) = &self.handles {
                        let route = route.clone();
                        request.body_mut().set_origin(Origin { stream, route });
                    }
                    // A later header block is decoded into this list (no allocation).
                    self.session.conn.recycle_fields(headers);
                    Input::Request(stream, request)
                }
                Event::StreamReset { stream, .. } => {
                    self.session.event(event);
                    Input::Reset(stream)
                }
                Event::ConnectionTerminated {
                    reason,
                    remote,
                    ref detail,
                } => {
                    if reason != Reason::NO_ERROR {
                        let detail = detail.clone();
                        self.error = Some(Error::Connection {
                            reason,
                            remote,
                            detail,
                        });
                    }
                    self.session.event(event);
                    Input::Closed
                }
                other => {
                    self.session.event(other);
                    continue;
                }
            };
            // One call site, so that `on` is inlined here.
            let answering = match &input {
                Input::Request(stream, _) => Some(*stream),
                _ => None,
            };
            if let Some(response) = on(input) {
                if let Some(stream) = answering {
                    self.session.send_response(stream, response);
                }
            }
        }
        any
    }

    /// The end of a round: bodies go out as flow control allows (`cx` is woken when one that
    /// had nothing has more), finished streams are forgotten, the pool sees the connection's
    /// state, and the core's next frames are taken once the transport wrote the last ones.
    /// True if anything happened.
    pub fn flush(&mut self, cx: &mut Context<'_>, transport: &mut Transport, now: Instant) -> bool {
        let sent = self.session.poll_bodies(cx);
        self.session.cleanup();
        if let Some(seat) = self.seat.as_mut() {
            seat.update(&self.session.conn);
        }
        sent | transport.pump(&mut self.session.conn, now)
    }

    /// Writing failed: the peer takes nothing more, so the connection is over; its streams
    /// learn it (a server's handlers see their bodies fail).
    pub fn write_failed(&mut self, transport: &mut Transport, now: Instant, err: std::io::Error) {
        transport.handle_write_error();
        self.session.conn.handle_eof(now);
        self.poll(transport, now, |_| None);
        self.error.get_or_insert(Error::Io(err));
    }

    /// The connection is over (also when dropped): the pool's view of it is final.
    pub fn finish(&mut self) {
        if let Some(mut seat) = self.seat.take() {
            seat.finish(&self.session.conn);
        }
    }

    /// Why the connection failed, if it did (taken once).
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

impl<M: Mode> Drop for Drive<M> {
    fn drop(&mut self) {
        // However the adapter ended, the pool must not wait for this connection.
        self.finish();
    }
}
