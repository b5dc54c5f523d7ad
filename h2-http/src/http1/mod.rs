//! HTTP/1.1 on the same port as h2c, with the same handler, the same on every runtime: the
//! protocol's rules are `h2core::http1::ServerConn` (heads, body framing, keep-alive,
//! 100-continue) and the shell (`H2cSwitch` for `Upgrade: h2c`, `Http1Timer` for the idle and
//! head deadlines); this joins them to `http` messages whose bodies stream. The adapter
//! reads into the buffer while [`Http1Server::wants_read`], writes what the shell's
//! [`Transport`] holds, runs the handler for each request [`Http1Server::step`] returns, and
//! hands back its response ([`Http1Server::respond`]).
//!
//! The socket is read only while less than [`READ_AHEAD`] of a request body waits for the
//! handler, so TCP's own flow control slows a client the handler does not keep up with.

mod bodies;

use crate::body::{Body, Consumed, Inbox, Mode, Origin, Outgoing, Release};
use crate::handle::{Route, StreamCommand};
use crate::Error;
use bodies::{pump, read_request_body, tunnel, Pumped};
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyEvent, BodyKind, Http1Error, IncomingRequest, ServerConn};
use h2core::shell::{Expired, H2cSwitch, Http1Timer, Transport, REQUEST_TIMEOUT};
use h2core::{Config, Connection, StreamId};
use http::{Request, Response};
use std::any::Any;
use std::sync::Arc;
use std::task::Context;
use std::time::Instant;

/// Bytes read ahead of the handler (request body it has not consumed, or pipelined requests
/// while one is answered), at most.
pub const READ_AHEAD: usize = 64 * 1024;

const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const SERVER_ERROR: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// Found in the extensions of a request that arrived over HTTP/1.1: how many bytes its head
/// took on the wire (request line, header section and the empty line that ends it, RFC 9112
/// §2.1), e.g. for a proxy's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http1HeadLen(pub usize);

/// The connection's side the server works on: what was read and not yet taken, whether the
/// peer closed its side, and the write queue.
pub struct Wire<'a> {
    /// Bytes read from the socket, not yet taken.
    pub read_buf: &'a mut BytesMut,
    /// The peer closed its side (EOF).
    pub read_closed: bool,
    /// What goes out, in order.
    pub transport: &'a mut Transport,
}

/// What [`Http1Server::step`] hands the adapter.
// Returned, never stored: boxing the request would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum Step<M: Mode> {
    /// Nothing for the adapter now.
    Idle,
    /// A request head arrived: run the handler; its body streams in meanwhile. Its
    /// [`StreamHandle`](crate::handle::StreamHandle) travels in its body.
    Request(Request<Body<M>>),
    /// `Upgrade: h2c` switched the connection to HTTP/2 (RFC 7540 §3.2): the 101 is queued;
    /// drive `conn` from now on, with what is left in the read buffer first; the upgrade
    /// request is its stream 1, with this whole body.
    Upgraded(Box<Connection>, Bytes),
}

/// One HTTP/1.1 connection's exchanges.
pub struct Http1Server<M: Mode> {
    sc: ServerConn,
    state: State,
    /// Over TLS: requests are `https`, and `Upgrade: h2c` is ignored (ALPN decides there).
    secure: bool,
    timer: Http1Timer,
    config: Config,
    release: Release,
    /// Where the handlers' `StreamHandle`s send their commands: the `Route<M>`, shared by
    /// every request's body (a reference count per request, no allocation).
    route: Arc<dyn Any + Send + Sync>,
    /// Numbers the exchanges, so a late report about an earlier request body is ignored.
    exchanges: u32,
    /// No more requests: close once the queue is written.
    closing: bool,
    mode: std::marker::PhantomData<fn() -> M>,
}

enum State {
    /// Waiting for a request head.
    Idle,
    /// An `Upgrade: h2c` request we accept: its body is collected, then we switch.
    Upgrade(H2cSwitch),
    /// A request is answered; its body may still arrive while the response goes out.
    Exchange(Exchange),
    /// The handler answered `101 Switching Protocols` to an `Upgrade` (RFC 9110 §7.8): the
    /// connection's bytes are its tunnel both ways.
    Tunnel(Tunnel),
    /// Nothing more on this connection.
    Closed,
}

/// An upgraded connection (`101`): what is read goes to the handler's request body, what its
/// response body gives is written as it is, no HTTP/1.1 framing either way.
struct Tunnel {
    tag: StreamId,
    /// Where read bytes go; `None` once the peer closed its side or the handler dropped it.
    inbox: Option<Inbox>,
    /// Delivered to the handler and not yet consumed.
    unread: usize,
    /// Our side; `None` once it ended.
    out: Option<Outgoing>,
}

struct Exchange {
    /// What the handler's body reports name (`StreamId` of the exchange number).
    tag: StreamId,
    /// The request body is still arriving.
    reading: bool,
    /// Where it goes; `None` once complete, or dropped by the handler (the rest is
    /// discarded as it arrives).
    body: Option<Inbox>,
    /// Delivered to the handler and not yet consumed.
    unread: usize,
    response: Sending,
    /// An `Upgrade` request the handler may accept with `101`: where the connection's bytes
    /// go after it (the request's body), ended empty if it answers otherwise.
    upgrade: Option<Inbox>,
}

enum Sending {
    /// The handler runs.
    Handling,
    /// The response body goes out.
    Body(Outgoing),
    /// The response is complete.
    Done,
}

impl<M: Mode> Http1Server<M> {
    /// A connection accepted at `now` (`secure`: over TLS); what handlers consume of request
    /// bodies is reported to `release`, whose calls the adapter passes to
    /// [`Http1Server::consumed`]; what their `StreamHandle`s ask for goes to `route`, whose
    /// commands the adapter passes to [`Http1Server::stream_command`].
    pub fn new(
        config: &Config,
        now: Instant,
        secure: bool,
        release: Release,
        route: Route<M>,
    ) -> Self {
        Http1Server {
            sc: ServerConn::new(http1::Limits::default()),
            state: State::Idle,
            secure,
            timer: Http1Timer::new(config, now),
            config: config.clone(),
            release,
            route: Arc::new(route),
            exchanges: 0,
            closing: false,
            mode: std::marker::PhantomData,
        }
    }

    /// Graceful shutdown: no new request; the current exchange finishes.
    pub fn shutdown(&mut self) {
        self.closing = true;
    }

    /// True once the connection should close: no more requests, and none in progress.
    pub fn is_over(&self) -> bool {
        // A tunnel ends with the connection, at a graceful shutdown too.
        self.closing && !matches!(self.state, State::Exchange(_))
    }

    /// True while the socket should be read (`buffered`: bytes read and not yet taken).
    pub fn wants_read(&self, buffered: usize) -> bool {
        let wants = match &self.state {
            State::Idle | State::Upgrade(_) => true,
            State::Exchange(x) => x.reading && (x.body.is_none() || x.unread < READ_AHEAD),
            State::Tunnel(t) => t.inbox.is_none() || t.unread < READ_AHEAD,
            State::Closed => false,
        };
        wants && buffered < READ_AHEAD
    }

    /// The idle or head deadline, while one runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.poll_timeout()
    }

    /// A deadline passed: a slow head is answered 408 (RFC 9110 §15.5.9), an idle connection
    /// closes silently.
    pub fn handle_timeout(&mut self, t: &mut Transport, now: Instant) {
        match self.timer.handle_timeout(now) {
            Some(Expired::Head) => {
                t.push(Bytes::from_static(REQUEST_TIMEOUT));
                self.close();
            }
            Some(Expired::Idle) => {
                self.close();
            }
            None => {}
        }
    }

    /// Takes what was read and sends what the response body has (`cx` is woken when it has
    /// more); `progress` is set if anything happened.
    pub fn step(
        &mut self,
        w: &mut Wire<'_>,
        now: Instant,
        cx: &mut Context<'_>,
        progress: &mut bool,
    ) -> Step<M> {
        loop {
            match &mut self.state {
                State::Idle => {
                    if self.closing {
                        return Step::Idle;
                    }
                    match self.sc.read_head(w.read_buf) {
                        Ok(Some(req)) => {
                            *progress = true;
                            self.timer.head_received();
                            if let Some(mut request) = self.start(w, req) {
                                crate::Deadline::mark(&mut request, || now);
                                return Step::Request(request);
                            }
                        }
                        Ok(None) => {
                            self.timer.head_bytes(now, !w.read_buf.is_empty());
                            if self.sc.should_close() {
                                self.closing = true;
                            } else if w.read_closed {
                                let _ = self.sc.read_eof();
                                self.closing = true;
                            }
                            return Step::Idle;
                        }
                        Err(e) => return self.fail(w.transport, &e),
                    }
                }
                State::Upgrade(switch) => match self.sc.read_body(w.read_buf) {
                    Ok(Some(BodyEvent::Data(d))) => {
                        *progress = true;
                        switch.body_data(&d);
                    }
                    Ok(Some(BodyEvent::Trailers(_))) => {}
                    Ok(Some(BodyEvent::End)) => {
                        *progress = true;
                        let State::Upgrade(switch) =
                            std::mem::replace(&mut self.state, State::Idle)
                        else {
                            unreachable!("matched above")
                        };
                        return self.switch(w.transport, now, switch);
                    }
                    Ok(None) if !w.read_closed => return Step::Idle,
                    Ok(None) => match self.sc.read_eof() {
                        // The body ended with the connection: read_body says End next.
                        Ok(Some(_)) => {}
                        Ok(None) => return self.close(),
                        Err(e) => return self.fail(w.transport, &e),
                    },
                    Err(e) => return self.fail(w.transport, &e),
                },
                State::Exchange(x) => {
                    if let Err(e) = read_request_body(&mut self.sc, w, x, progress) {
                        return self.fail(w.transport, &e);
                    }
                    if w.read_closed && x.reading {
                        // Not complete, and nothing more can come (RFC 9112 §8).
                        x.reading = false;
                        if let Some(inbox) = x.body.take() {
                            inbox.fail(Error::Http1("request body incomplete".into()));
                        }
                        self.closing = true;
                    }
                    if let Sending::Body(out) = &mut x.response {
                        match pump(&mut self.sc, w.transport, out, cx) {
                            Pumped::Waiting => {}
                            Pumped::Done => {
                                *progress = true;
                                x.response = Sending::Done;
                                self.closing |= self.sc.should_close();
                            }
                            Pumped::Failed => return self.close(),
                        }
                    }
                    // Over once answered and the handler has the whole body or dropped it
                    // (ServerConn drains or refuses what is left of it).
                    if !matches!(x.response, Sending::Done) || (x.reading && x.body.is_some()) {
                        return Step::Idle;
                    }
                    self.state = State::Idle;
                    if self.closing {
                        return Step::Idle;
                    }
                    self.timer.await_head(now);
                }
                State::Tunnel(t) => {
                    return match tunnel(w, t, cx, progress) {
                        Some(true) => Step::Idle,
                        Some(false) => self.close(),
                        None => self.fail_tunnel(),
                    };
                }
                State::Closed => return Step::Idle,
            }
        }
    }

    /// The tunnel's response body failed: the connection ends without its end (the peer sees
    /// the stream cut, RFC 9112 §8).
    fn fail_tunnel(&mut self) -> Step<M> {
        if let State::Tunnel(t) = &mut self.state {
            if let Some(inbox) = t.inbox.take() {
                inbox.fail(Error::ConnectionGone);
            }
        }
        self.close()
    }

    /// A request head arrived: the request for the handler, unless it is an upgrade.
    fn start(&mut self, w: &mut Wire<'_>, req: IncomingRequest) -> Option<Request<Body<M>>> {
        let scheme = if self.secure { "https" } else { "http" };
        let headers = match req.head.to_h2_headers(scheme) {
            Ok(h) => h,
            Err(e) => {
                self.fail(w.transport, &e);
                return None;
            }
        };
        if let Some(switch) = H2cSwitch::offer(&req, self.secure) {
            // The body is collected for stream 1: ask for it at once (RFC 9110 §10.1.1).
            if let Some(b) = self.sc.take_continue() {
                w.transport.push(b);
            }
            self.state = State::Upgrade(switch);
            return None;
        }
        let Ok(mut parts) = crate::request_from_h2(&headers) else {
            w.transport.push(Bytes::from_static(BAD_REQUEST));
            self.close();
            return None;
        };
        parts.version = match req.head.version {
            http1::Version::Http10 => http::Version::HTTP_10,
            http1::Version::Http11 => http::Version::HTTP_11,
        };
        parts.extensions.insert(Http1HeadLen(req.head_len));
        self.exchanges = self.exchanges.wrapping_add(1);
        let tag = StreamId::new(self.exchanges);
        let mut upgrade = None;
        let (inbox, mut body) = match req.body {
            BodyKind::Empty | BodyKind::ContentLength(0) => match upgrade_protocol(&req) {
                Some(protocol) => {
                    // The handler sees what is asked (`Upgrade` and `Connection` are hop-by-hop
                    // and left out of the fields otherwise), and, if it answers 101, reads the
                    // connection as this body.
                    parts.headers.insert(http::header::UPGRADE, protocol);
                    parts.headers.insert(
                        http::header::CONNECTION,
                        http::HeaderValue::from_static("upgrade"),
                    );
                    let (inbox, body) = Body::received(tag, self.release.clone(), false);
                    upgrade = Some(inbox);
                    (None, body)
                }
                None => (None, Body::empty()),
            },
            _ => {
                // 100 Continue goes out when the handler first reads (`consumed`).
                let release = self.release.clone();
                let (inbox, body) = Body::received(tag, release, req.expect_continue);
                (Some(inbox), body)
            }
        };
        // One exchange at a time, and no stream: the handle sends interim (1xx) responses
        // only (RFC 9110 §15.2), which `stream_command` writes before the final one.
        body.set_origin(Origin {
            stream: StreamId::ZERO,
            route: self.route.clone(),
        });
        self.state = State::Exchange(Exchange {
            tag,
            reading: true,
            body: inbox,
            unread: 0,
            response: Sending::Handling,
            upgrade,
        });
        Some(Request::from_parts(parts, body))
    }

    /// The `Upgrade: h2c` request is whole: 101, then HTTP/2 with it as stream 1.
    fn switch(&mut self, t: &mut Transport, now: Instant, switch: H2cSwitch) -> Step<M> {
        match switch.switch(self.config.clone(), now) {
            Ok((answer, conn, body)) => {
                t.push(Bytes::from_static(answer));
                Step::Upgraded(Box::new(conn), body)
            }
            Err(e) => {
                tracing::debug!("upgrade: {}", e.detail);
                self.close()
            }
        }
    }

    /// Does what another part of the connection asked (a handler's answer or `StreamHandle`
    /// call, a body reader's progress); anything else has no meaning over HTTP/1.1 and fails.
    pub fn command(&mut self, t: &mut Transport, cmd: crate::drive::Command<M>) {
        use crate::drive::Command;
        match cmd {
            Command::Respond { response, .. } => self.respond(t, Some(response)),
            Command::Stream(cmd) => self.stream_command(t, cmd),
            Command::Consumed { stream, consumed } => self.consumed(t, stream, consumed),
            other => other.fail(),
        }
    }

    /// The handler consumed bytes of its request body (exchange `tag`), or dropped it.
    pub fn consumed(&mut self, t: &mut Transport, tag: StreamId, c: Consumed) {
        if let State::Tunnel(tunnel) = &mut self.state {
            if tunnel.tag == tag {
                tunnel.unread = tunnel.unread.saturating_sub(c.n);
                if c.dropped {
                    tunnel.inbox = None;
                }
            }
            return;
        }
        let State::Exchange(x) = &mut self.state else {
            return;
        };
        if x.tag != tag {
            return;
        }
        x.unread = x.unread.saturating_sub(c.n);
        if c.dropped {
            x.body = None;
            x.unread = 0;
        } else if let Some(b) = self.sc.take_continue() {
            // The handler reads the body: now the client may send it (RFC 9110 §10.1.1).
            t.push(b);
        }
    }

    /// Carries out what a handler's `StreamHandle` asked: a 1xx becomes an interim
    /// response; a push fails, as HTTP/1.1 has none.
    pub fn stream_command(&mut self, t: &mut Transport, cmd: StreamCommand<M>) {
        match cmd {
            StreamCommand::Informational { head, .. } => self.informational(t, &head),
            cmd => cmd.refuse("HTTP/2 only (this exchange is HTTP/1.1)"),
        }
    }

    /// The handler sends a 1xx response before its final one (RFC 9110 §15.2; none to an
    /// HTTP/1.0 client); ignored once the final response started.
    fn informational(&mut self, t: &mut Transport, head: &[h2core::Header]) {
        let State::Exchange(x) = &self.state else {
            return;
        };
        if !matches!(x.response, Sending::Handling) {
            return;
        }
        let mut dst = BytesMut::new();
        let written = http1::response_head_from_h2(head)
            .and_then(|(status, fields)| self.sc.write_informational(status, &fields, &mut dst));
        match written {
            Ok(()) => t.push(dst.freeze()),
            Err(e) => tracing::debug!("informational response: {e}"),
        }
    }

    /// The handler answered (`None`: it failed, e.g. panicked: 500 and close).
    pub fn respond(&mut self, t: &mut Transport, resp: Option<Response<Body<M>>>) {
        let State::Exchange(x) = &mut self.state else {
            return;
        };
        if !matches!(x.response, Sending::Handling) {
            return;
        }
        let Some(resp) = resp else {
            t.push(Bytes::from_static(SERVER_ERROR));
            self.close();
            return;
        };
        if x.body.is_some() {
            // The handler kept its request body (to read it as it answers, or as the response
            // body itself): the client may send it now, or it would wait for 100 Continue
            // while we wait for the body (RFC 9110 §10.1.1). A handler that did not want it
            // dropped it before answering, and the client is spared the upload.
            if let Some(b) = self.sc.take_continue() {
                t.push(b);
            }
        }
        if let Some(inbox) = x.upgrade.take() {
            if resp.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                // RFC 9110 §7.8: the connection is the new protocol's from the empty line that
                // ends the 101 on; no HTTP/1.1 exchange follows.
                t.push(switching_protocols(&resp));
                self.state = State::Tunnel(Tunnel {
                    tag: x.tag,
                    inbox: Some(inbox),
                    unread: 0,
                    out: Some(resp.into_body().into_outgoing()),
                });
                return;
            }
            // Not upgraded: the request had no body.
            inbox.end();
        }
        let head = crate::response_to_h2(&resp);
        let body = resp.into_body();
        // A content-length the handler set wins over the body's (a HEAD response declares
        // the length a GET would have, RFC 9110 §9.3.2), as it does over HTTP/2.
        let declared = head.iter().any(|h| h.name == "content-length");
        let length = body.size_hint().filter(|_| !declared);
        let mut dst = BytesMut::new();
        let written = http1::response_head_from_h2(&head).and_then(|(status, fields)| {
            self.sc
                .write_response_head(status, None, &fields, length, &mut dst)
        });
        if let Err(e) = written {
            tracing::debug!("response head: {e}");
            t.push(Bytes::from_static(SERVER_ERROR));
            self.close();
            return;
        }
        t.push(dst.freeze());
        x.response = Sending::Body(body.into_outgoing());
    }

    /// A malformed request: answer with its status and close (RFC 9112 §6.3).
    fn fail(&mut self, t: &mut Transport, e: &Http1Error) -> Step<M> {
        if !self.sc.response_started() {
            let mut out = BytesMut::new();
            e.encode_response(&mut out);
            t.push(out.freeze());
        }
        self.close()
    }

    /// Nothing more on this connection: a request body being read fails, a response body
    /// being sent is dropped (its sender fails).
    fn close(&mut self) -> Step<M> {
        if let State::Exchange(x) = std::mem::replace(&mut self.state, State::Closed) {
            if let Some(inbox) = x.body {
                inbox.fail(Error::ConnectionGone);
            }
        }
        self.closing = true;
        Step::Idle
    }
}

/// The protocol an `Upgrade` request asks for (RFC 9110 §7.8: `Upgrade`, listed in
/// `Connection`), other than h2c (which `H2cSwitch` handles, and TLS ignores).
fn upgrade_protocol(req: &IncomingRequest) -> Option<http::HeaderValue> {
    let protocol = req.head.header("upgrade")?;
    let listed = req.head.header("connection").is_some_and(|c| {
        c.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
    });
    if !listed || req.head.method_is("CONNECT") || protocol.eq_ignore_ascii_case(b"h2c") {
        return None;
    }
    http::HeaderValue::from_maybe_shared(protocol.clone()).ok()
}

/// A `101 Switching Protocols` head with the handler's fields (`Upgrade`, and e.g.
/// `Sec-WebSocket-Accept`), and `Connection: upgrade` (RFC 9110 §7.8).
fn switching_protocols<B>(resp: &Response<B>) -> Bytes {
    let mut head = BytesMut::from(&b"HTTP/1.1 101 Switching Protocols\r\n"[..]);
    let mut connection = false;
    for (name, value) in resp.headers() {
        connection |= name == http::header::CONNECTION;
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    if !connection {
        head.extend_from_slice(b"connection: upgrade\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head.freeze()
}
