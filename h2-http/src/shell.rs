//! One connection from the socket's side, the same on every runtime: everything about it
//! except the socket, the clock and where handlers run. A server connection is first
//! accepted (the h2 preface, HTTP/1.1, or what TLS ALPN chose, RFC 9113 §3), then speaks
//! HTTP/1.1 ([`Http1Server`]), possibly switching to HTTP/2 with `Upgrade: h2c` (RFC 7540
//! §3.2), or HTTP/2 ([`Drive`]); clients and test taps start in HTTP/2. The [`Shell`] holds
//! the read buffer, whether the peer closed its side, the write queue and its close sequence
//! (the shell's [`Transport`]), and which deadline counts.
//!
//! An adapter's loop, each round:
//! 1. while [`Shell::wants_read`], read the socket into [`Shell::read_buf`], or report the
//!    end of input ([`Shell::handle_eof`]); over TLS, report ALPN's choice once the handshake
//!    is done ([`Shell::tls_handshake_done`]);
//! 2. [`Shell::poll`]: requests go to its handlers (each carries its `StreamHandle`), which
//!    answer at once or later with [`Shell::respond`]; what other tasks or threads ask goes to
//!    [`Shell::command`];
//! 3. [`Shell::flush`]: bodies go out as flow control allows;
//! 4. write [`Shell::transport`]'s slices; after each write, [`Shell::refill`] until the
//!    socket is full or nothing more comes (a failed write: [`Shell::write_failed`]);
//! 5. [`Shell::poll_close`]: send our FIN when it says so; drop the socket once
//!    [`Shell::is_done`];
//! 6. arm its one timer at [`Shell::poll_timeout`], and call [`Shell::handle_timeout`] when it
//!    fires.

use crate::body::{Body, Mode, Release};
use crate::drive::{Command, Drive, Input};
use crate::handle::Route;
use crate::http1::{Http1Server, Step, Wire};
use crate::session::Session;
use crate::Error;
use bytes::BytesMut;
use h2core::shell::{Accept, Accepted, CloseAction, Transport};
use h2core::{Connection, Reason, StreamId};
use http::Response;
use std::task::Context;
use std::time::Instant;

/// What the connection speaks.
// One per connection, moved only when the protocol changes: not worth an allocation each.
#[allow(clippy::large_enum_variant)]
enum Proto<M: Mode> {
    /// Not decided yet (RFC 9113 §3).
    Accept(Accept),
    /// HTTP/1.1 exchanges (RFC 9112).
    Http1(Http1Server<M>),
    /// HTTP/2 (RFC 9113).
    Http2(Drive<M>),
    /// Nothing: closed before speaking.
    Gone,
}

/// One connection, everything but its socket, clock and handlers (see the module docs for
/// the order an adapter calls it in).
pub struct Shell<M: Mode> {
    proto: Proto<M>,
    read_buf: BytesMut,
    /// The peer closed its side, or reading failed.
    read_closed: bool,
    /// Why reading failed, until the protocol is told.
    error: Option<Error>,
    /// HTTP/2 knows of the end of input (told once).
    eof_told: bool,
    /// How much of the read buffer HTTP/2 has seen: more is a new read to feed.
    fed: usize,
    transport: Transport,
    /// Closed before speaking (nothing to say): drop the socket at once.
    done: bool,
    /// Where what readers of received bodies consumed goes.
    release: Release,
    /// Where the handlers' `StreamHandle`s send their commands.
    route: Route<M>,
}

impl<M: Mode> Shell<M> {
    /// Server: a connection just accepted, deciding what it speaks with `accept` (the
    /// server's options make it). What handlers consume of request bodies goes to `release`,
    /// what their `StreamHandle`s ask to `route`; the adapter passes both back to
    /// [`Shell::command`].
    pub fn accept(accept: Accept, release: Release, route: Route<M>) -> Shell<M> {
        Shell::new(Proto::Accept(accept), BytesMut::new(), release, route)
    }

    /// A connection speaking HTTP/2 from the start (a client's, a server's by prior
    /// knowledge, a test tap), with the bytes already received in `read_buf` (after a 101);
    /// [`Shell::drive`] configures it (the client pool's seat, pushes, a tap).
    pub fn http2(conn: Connection, release: Release, route: Route<M>, read_buf: BytesMut) -> Self {
        let unparsed = !read_buf.is_empty();
        let mut drive = Drive::new(Session::new(conn, release.clone()), unparsed);
        drive.stream_handles(route.clone());
        Shell::new(Proto::Http2(drive), read_buf, release, route)
    }

    fn new(proto: Proto<M>, read_buf: BytesMut, release: Release, route: Route<M>) -> Self {
        Shell {
            proto,
            read_buf,
            read_closed: false,
            error: None,
            eof_told: false,
            fed: 0,
            transport: Transport::new(),
            done: false,
            release,
            route,
        }
    }

    /// The HTTP/2 connection, once the connection speaks HTTP/2.
    pub fn drive(&mut self) -> Option<&mut Drive<M>> {
        match &mut self.proto {
            Proto::Http2(drive) => Some(drive),
            _ => None,
        }
    }

    /// True while what the connection speaks is undecided.
    pub fn is_accepting(&self) -> bool {
        matches!(self.proto, Proto::Accept(_))
    }

    /// True when the adapter should read the socket now: the protocol takes input (HTTP/1.1
    /// holds at most `READ_AHEAD` for a slow handler, so TCP slows the client), or the
    /// connection lingers (what arrives is dropped), and the peer has not closed its side.
    pub fn wants_read(&self) -> bool {
        if self.read_closed {
            return false;
        }
        match &self.proto {
            _ if self.transport.is_lingering() => true,
            Proto::Accept(_) => !self.transport.is_closing(),
            Proto::Http1(server) => server.wants_read(self.read_buf.len()),
            Proto::Http2(drive) => drive.wants_read(false, &self.transport),
            Proto::Gone => false,
        }
    }

    /// Where the adapter reads the socket into (append only).
    pub fn read_buf(&mut self) -> &mut BytesMut {
        &mut self.read_buf
    }

    /// The peer closed its side (a read returned nothing), or reading failed (`err`).
    pub fn handle_eof(&mut self, err: Option<std::io::Error>) {
        self.read_closed = true;
        if let Some(e) = err {
            self.error.get_or_insert(Error::Io(e));
        }
    }

    /// TLS: the handshake is done and ALPN chose `alpn` (`None`: the client offered none):
    /// `h2` is HTTP/2, anything else HTTP/1.1 (RFC 9113 §3.2). True if that decided it.
    pub fn tls_handshake_done(&mut self, now: Instant, alpn: Option<&[u8]>) -> bool {
        let Proto::Accept(accept) = &mut self.proto else {
            return false;
        };
        match accept.tls_handshake_done(now, alpn) {
            Some(accepted) => {
                self.decide(now, accepted);
                true
            }
            None => false,
        }
    }

    /// Takes what was read: decides what the connection speaks, runs HTTP/1.1 exchanges (and
    /// switches to HTTP/2 after `Upgrade: h2c`), feeds HTTP/2 and hands its events on. What
    /// the adapter acts on goes to `on` (HTTP/1.1 requests on `StreamId::ZERO`), which may
    /// answer a request at once; `cx` is woken when a response body has more. True if
    /// anything happened.
    // HTTP/2's round is inlined into the adapter, and `on` into it: then each request goes
    // to its handler without being copied on the way (measured: three copies of it, ~1% of
    // a small request's cost, when `on` was a call of its own). The rest is out of line.
    #[inline(always)]
    pub fn poll(
        &mut self,
        now: Instant,
        cx: &mut Context<'_>,
        mut on: impl FnMut(Input<M>) -> Option<Response<Body<M>>>,
    ) -> bool {
        let mut progress = false;
        if !self.speaks_http2() {
            progress = self.poll_other(now, cx, &mut on);
        }
        // Also right after the switch (accepted, or `Upgrade: h2c`).
        if self.speaks_http2() {
            progress |= self.poll_http2(now, &mut on);
        }
        progress
    }

    /// HTTP/2, not lingering (also while flushing: the core's last frames are still taken).
    #[inline(always)]
    fn speaks_http2(&self) -> bool {
        matches!(self.proto, Proto::Http2(_)) && !self.transport.is_lingering()
    }

    /// Lingering, deciding, HTTP/1.1 (up to the switch to HTTP/2).
    #[inline(never)]
    fn poll_other(
        &mut self,
        now: Instant,
        cx: &mut Context<'_>,
        on: &mut impl FnMut(Input<M>) -> Option<Response<Body<M>>>,
    ) -> bool {
        if self.transport.is_lingering() {
            // Our FIN is out: what the peer still sends is dropped until it closes too.
            self.read_buf.clear();
            if self.read_closed {
                self.transport.handle_eof();
            }
            return false;
        }
        let mut progress = false;
        // Bounded: each turn returns or moves the protocol on (accept, then HTTP/1.1).
        for _ in 0..3 {
            match &mut self.proto {
                Proto::Accept(accept) => {
                    if self.transport.is_closing() {
                        break;
                    }
                    let buf = &self.read_buf;
                    let accepted = accept.poll(now, buf, self.read_closed);
                    // A TLS client that leaves before its handshake is done.
                    let accepted = accepted.or(self.read_closed.then_some(Accepted::Close));
                    let Some(accepted) = accepted else { break };
                    progress = true;
                    self.decide(now, accepted);
                }
                Proto::Http1(server) => {
                    let mut wire = Wire {
                        read_buf: &mut self.read_buf,
                        read_closed: self.read_closed,
                        transport: &mut self.transport,
                    };
                    match server.step(&mut wire, now, cx, &mut progress) {
                        Step::Idle => {}
                        Step::Request(request) => {
                            let answer = on(Input::Request(StreamId::ZERO, request));
                            if let Some(response) = answer {
                                server.respond(&mut self.transport, Some(response));
                            }
                        }
                        Step::Upgraded(conn, body) => {
                            let mut drive = self.http2_drive(*conn);
                            drive.session.upgrade_body(body);
                            self.proto = Proto::Http2(drive);
                            return true;
                        }
                    }
                    if server.is_over() {
                        self.transport.close(now);
                    }
                    break;
                }
                Proto::Http2(_) | Proto::Gone => break,
            }
        }
        progress
    }

    /// HTTP/2's round: what was read goes to the core, the end of input once, its events
    /// on.
    #[inline(always)]
    fn poll_http2(
        &mut self,
        now: Instant,
        on: &mut impl FnMut(Input<M>) -> Option<Response<Body<M>>>,
    ) -> bool {
        let Proto::Http2(drive) = &mut self.proto else {
            return false;
        };
        let mut progress = false;
        if drive.feed_unparsed(&mut self.read_buf, now) {
            progress = true;
        } else if self.read_buf.len() > self.fed {
            progress = true;
            drive.received(&mut self.read_buf, now);
        }
        self.fed = self.read_buf.len();
        // Also an end of input read before HTTP/2 began, told after the bytes before it.
        if self.read_closed && !self.eof_told {
            self.eof_told = true;
            progress = true;
            let err = match self.error.take() {
                Some(Error::Io(e)) => Some(e),
                _ => None,
            };
            drive.eof(now, err);
        }
        // Requests carry their `StreamHandle` (`Drive::stream_handles`).
        progress | drive.poll(&mut self.transport, now, on)
    }

    /// What an accepted connection speaks was decided.
    fn decide(&mut self, now: Instant, accepted: Accepted) {
        let Proto::Accept(accept) = std::mem::replace(&mut self.proto, Proto::Gone) else {
            return;
        };
        self.proto = match accepted {
            Accepted::Http2(conn) => Proto::Http2(self.http2_drive(*conn)),
            Accepted::Http1 { secure } => {
                let (release, route) = (self.release.clone(), self.route.clone());
                let server = Http1Server::new(accept.config(), now, secure, release, route);
                Proto::Http1(server)
            }
            Accepted::Close => {
                self.done = true;
                Proto::Gone
            }
        };
    }

    /// HTTP/2 over this connection from now on, what the read buffer holds first.
    fn http2_drive(&mut self, conn: Connection) -> Drive<M> {
        self.fed = 0;
        let session = Session::new(conn, self.release.clone());
        let mut drive = Drive::new(session, !self.read_buf.is_empty());
        drive.stream_handles(self.route.clone());
        drive
    }

    /// The end of a round: HTTP/2 bodies go out as flow control allows (`cx` is woken when
    /// one has more) and the core's next frames are queued once the last ones are written.
    /// True if anything happened.
    pub fn flush(&mut self, now: Instant, cx: &mut Context<'_>) -> bool {
        match &mut self.proto {
            Proto::Http2(drive) if !self.transport.is_lingering() => {
                drive.flush(cx, &mut self.transport, now)
            }
            _ => false,
        }
    }

    /// The write queue: the adapter writes its slices and reports what went.
    pub fn transport(&mut self) -> &mut Transport {
        &mut self.transport
    }

    /// After a write emptied the queue: the core's next batch, if it has one (true). The
    /// core counts a batch as unwritten until it is asked for the next one, which its flood
    /// limits need (RFC 9113 §10.5): so written batches go back to it before the next read.
    pub fn refill(&mut self, now: Instant) -> bool {
        match &mut self.proto {
            Proto::Http2(drive) if self.transport.is_empty() => {
                self.transport.pump(drive.conn(), now)
            }
            _ => false,
        }
    }

    /// Writing failed: the peer takes nothing more, so the connection is over (HTTP/2's
    /// streams learn it).
    pub fn write_failed(&mut self, now: Instant, err: std::io::Error) {
        match &mut self.proto {
            Proto::Http2(drive) => drive.write_failed(&mut self.transport, now, err),
            _ => {
                self.transport.handle_write_error();
                self.error.get_or_insert(Error::Io(err));
            }
        }
    }

    /// What the adapter must do to the socket to close it: our FIN once everything is
    /// written (`lower_pending`: the adapter's own layer below the queue, such as TLS
    /// records, still holds bytes).
    pub fn poll_close(&mut self, now: Instant, lower_pending: bool) -> Option<CloseAction> {
        self.transport.poll_close(now, lower_pending)
    }

    /// True when the adapter should drop the socket.
    pub fn is_done(&self) -> bool {
        self.done || self.transport.is_done()
    }

    /// The connection's one deadline: the close sequence's once closing, else the protocol's
    /// (deciding, HTTP/1.1's idle or head deadline, HTTP/2's core).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.transport.is_closing() {
            return self.transport.poll_timeout();
        }
        match &self.proto {
            Proto::Accept(accept) => accept.poll_timeout(),
            Proto::Http1(server) => server.poll_timeout(),
            Proto::Http2(drive) => drive.session.conn.poll_timeout(),
            Proto::Gone => None,
        }
    }

    /// The deadline from [`Shell::poll_timeout`] passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.transport.is_closing() {
            return self.transport.handle_timeout(now);
        }
        match &mut self.proto {
            Proto::Accept(accept) => {
                if let Some(accepted) = accept.handle_timeout(now, &self.read_buf) {
                    self.decide(now, accepted);
                }
            }
            Proto::Http1(server) => server.handle_timeout(&mut self.transport, now),
            Proto::Http2(drive) => drive.conn().handle_timeout(now),
            Proto::Gone => {}
        }
    }

    /// Does what another part of the connection asked: a handler's answer or
    /// `StreamHandle` call, a body reader's progress, a client's request. A connection that
    /// cannot take it fails it (`Command::fail`).
    pub fn command(&mut self, cmd: Command<M>, now: Instant) {
        match &mut self.proto {
            Proto::Http2(drive) => drive.command(cmd, now),
            Proto::Http1(server) => server.command(&mut self.transport, cmd),
            _ => cmd.fail(),
        }
    }

    /// The handler's response to the request on `stream` (`StreamId::ZERO` over HTTP/1.1).
    pub fn respond(&mut self, stream: StreamId, response: Response<Body<M>>) {
        match &mut self.proto {
            Proto::Http2(drive) => drive.session.send_response(stream, response),
            Proto::Http1(server) => server.respond(&mut self.transport, Some(response)),
            _ => {}
        }
    }

    /// The handler of the request on `stream` failed (panicked): over HTTP/2 its stream is
    /// reset with INTERNAL_ERROR (RFC 9113 §8.1) and the connection goes on; over HTTP/1.1
    /// it is answered 500 and the connection closes.
    pub fn handler_failed(&mut self, stream: StreamId) {
        match &mut self.proto {
            Proto::Http2(drive) => {
                let _ = drive.conn().reset(stream, Reason::INTERNAL_ERROR);
            }
            Proto::Http1(server) => server.respond(&mut self.transport, None),
            _ => {}
        }
    }

    /// Graceful shutdown: HTTP/2 sends GOAWAY (RFC 9113 §6.8), HTTP/1.1 finishes the current
    /// exchange, and a connection still deciding closes (nothing was said to it).
    pub fn shutdown(&mut self, now: Instant) {
        match &mut self.proto {
            Proto::Http2(drive) => {
                let _ = drive.conn().shutdown(now);
            }
            Proto::Http1(server) => server.shutdown(),
            _ => self.transport.close(now),
        }
    }

    /// The connection is over: the client pool's view of it is final.
    pub fn finish(&mut self) {
        if let Proto::Http2(drive) = &mut self.proto {
            drive.finish();
        }
    }

    /// Why the connection failed, if it did (taken once).
    pub fn take_error(&mut self) -> Option<Error> {
        match &mut self.proto {
            Proto::Http2(drive) => drive.take_error().or_else(|| self.error.take()),
            _ => self.error.take(),
        }
    }
}

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
