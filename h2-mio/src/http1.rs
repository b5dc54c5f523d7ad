//! HTTP/1.1 on the same port as h2c, with the same handler: every rule of the protocol is in
//! `h2core::http1::ServerConn` (heads, body framing, keep-alive, 100-continue) and the shell
//! (`H2cSwitch` for `Upgrade: h2c`, `Http1Timer` for the idle and head deadlines); this module
//! moves bytes between them and the socket.
//!
//! The handler runs as soon as the request head is read; its body streams through the same
//! [`Body`] as over HTTP/2. The socket is read only while less than [`READ_AHEAD`] of the body
//! waits for the handler, so TCP's own flow control slows a client the handler does not keep
//! up with.

use crate::h2::H2;
use crate::io::Socket;
use crate::remote::{Ctx, Role};
use crate::Body;
use bytes::{Bytes, BytesMut};
use h2_http::body::{Chunk, Consumed, Inbox, Outgoing};
use h2_http::Error;
use h2core::http1::{self, BodyEvent, BodyKind, Http1Error, IncomingRequest, ServerConn};
use h2core::shell::{Expired, H2cSwitch, Http1Timer, REQUEST_TIMEOUT};
use h2core::StreamId;
use http::Response;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Bytes read ahead of the handler (request body it has not consumed, or pipelined requests
/// while one is answered), at most.
const READ_AHEAD: usize = 64 * 1024;

const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const SERVER_ERROR: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// A streamed body is pulled only while less than this is queued for the socket.
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// One HTTP/1.1 connection's exchange state.
pub(crate) struct H1 {
    sc: ServerConn,
    state: State,
    /// Over TLS: requests are `https`, and `Upgrade: h2c` is ignored (ALPN decides there).
    secure: bool,
    timer: Http1Timer,
    /// Numbers the exchanges, so a late report about an earlier request body is ignored.
    exchanges: u32,
    /// No more requests: close once the queue is written.
    pub(crate) closing: bool,
    /// Brings the loop back when the response body has more.
    waker: Waker,
}

enum State {
    /// Waiting for a request head.
    Idle,
    /// An `Upgrade: h2c` request we accept: its body is collected, then we switch.
    Upgrade(H2cSwitch),
    /// A request is answered; its body may still arrive while the response goes out.
    Exchange(Exchange),
    /// Nothing more on this connection.
    Closed,
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
}

enum Sending {
    /// The handler runs.
    Handling,
    /// The response body goes out.
    Body(Outgoing),
    /// The response is complete.
    Done,
}

impl H1 {
    /// `secure`: the connection is TLS.
    pub(crate) fn new(ctx: &Ctx<'_>, secure: bool, timer: Http1Timer) -> H1 {
        H1 {
            waker: ctx.remote.body_waker(ctx.key),
            sc: ServerConn::new(http1::Limits::default()),
            state: State::Idle,
            secure,
            timer,
            exchanges: 0,
            closing: false,
        }
    }

    /// True once the connection should close: no more requests, and none in progress (a
    /// graceful shutdown lets the current exchange finish).
    pub(crate) fn is_over(&self) -> bool {
        self.closing && !matches!(self.state, State::Exchange(_))
    }

    /// The idle or head deadline, while one runs.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timer.poll_timeout()
    }

    /// A deadline passed: a slow head is answered 408 (RFC 9110 §15.5.9), an idle connection
    /// closes silently.
    pub(crate) fn handle_timeout(&mut self, s: &mut Socket, now: Instant) {
        match self.timer.handle_timeout(now) {
            Some(Expired::Head) => {
                s.transport.push(Bytes::from_static(REQUEST_TIMEOUT));
                self.close();
            }
            Some(Expired::Idle) => {
                self.close();
            }
            None => {}
        }
    }

    /// Reads and answers what it can; returns the HTTP/2 connection after an `Upgrade: h2c`.
    pub(crate) fn step(
        &mut self,
        s: &mut Socket,
        ctx: &Ctx<'_>,
        scratch: &mut [u8],
        progress: &mut bool,
    ) -> Option<H2> {
        let wants = match &self.state {
            State::Idle | State::Upgrade(_) => true,
            State::Exchange(x) => x.reading && (x.body.is_none() || x.unread < READ_AHEAD),
            State::Closed => false,
        };
        if wants && s.read_buf.len() < READ_AHEAD && s.read_some(scratch) {
            *progress = true;
        }
        loop {
            match &mut self.state {
                State::Idle => {
                    if self.closing {
                        return None;
                    }
                    match self.sc.read_head(&mut s.read_buf) {
                        Ok(Some(req)) => {
                            *progress = true;
                            self.timer.head_received();
                            self.start(s, ctx, req);
                        }
                        Ok(None) => {
                            self.timer.head_bytes(ctx.now, !s.read_buf.is_empty());
                            if self.sc.should_close() {
                                self.closing = true;
                            } else if s.read_closed {
                                let _ = self.sc.read_eof();
                                self.closing = true;
                            }
                            return None;
                        }
                        Err(e) => return self.fail(s, &e),
                    }
                }
                State::Upgrade(switch) => match self.sc.read_body(&mut s.read_buf) {
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
                        return self.switch(s, ctx, switch);
                    }
                    Ok(None) if !s.read_closed => return None,
                    Ok(None) => match self.sc.read_eof() {
                        // The body ended with the connection: read_body says End next.
                        Ok(Some(_)) => {}
                        Ok(None) => return self.close(),
                        Err(e) => return self.fail(s, &e),
                    },
                    Err(e) => return self.fail(s, &e),
                },
                State::Exchange(x) => {
                    if let Err(e) = read_request_body(&mut self.sc, s, x, progress) {
                        return self.fail(s, &e);
                    }
                    if s.read_closed && x.reading {
                        // Not complete, and nothing more can come (RFC 9112 §8).
                        x.reading = false;
                        if let Some(inbox) = x.body.take() {
                            inbox.fail(Error::Http1("request body incomplete".into()));
                        }
                        self.closing = true;
                    }
                    if let Sending::Body(out) = &mut x.response {
                        match pump(&mut self.sc, s, out, &self.waker) {
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
                        return None;
                    }
                    self.state = State::Idle;
                    if self.closing {
                        return None;
                    }
                    self.timer.await_head(ctx.now);
                }
                State::Closed => return None,
            }
        }
    }

    fn start(&mut self, s: &mut Socket, ctx: &Ctx<'_>, req: IncomingRequest) {
        let scheme = if self.secure { "https" } else { "http" };
        let headers = match req.head.to_h2_headers(scheme) {
            Ok(h) => h,
            Err(e) => {
                self.fail(s, &e);
                return;
            }
        };
        if let Some(switch) = H2cSwitch::offer(&req, self.secure) {
            // The body is collected for stream 1: ask for it at once (RFC 9110 §10.1.1).
            if let Some(b) = self.sc.take_continue() {
                s.transport.push(b);
            }
            self.state = State::Upgrade(switch);
            return;
        }
        let Role::Server { dispatch } = ctx.role else {
            self.close();
            return;
        };
        let mut parts = match h2_http::request_from_h2(&headers) {
            Ok(parts) => parts,
            Err(_) => {
                s.transport.push(Bytes::from_static(BAD_REQUEST));
                self.close();
                return;
            }
        };
        parts.version = match req.head.version {
            http1::Version::Http10 => http::Version::HTTP_10,
            http1::Version::Http11 => http::Version::HTTP_11,
        };
        self.exchanges = self.exchanges.wrapping_add(1);
        let tag = StreamId::new(self.exchanges);
        let (pipe, body) = match req.body {
            BodyKind::Empty | BodyKind::ContentLength(0) => (None, Body::empty()),
            _ => {
                // 100 Continue goes out when the handler first reads (`consumed`).
                let release = ctx.remote.release(ctx.key);
                let (inbox, body) = Body::received(tag, release, req.expect_continue);
                (Some(inbox), body)
            }
        };
        self.state = State::Exchange(Exchange {
            tag,
            reading: true,
            body: pipe,
            unread: 0,
            response: Sending::Handling,
        });
        dispatch(
            ctx.key,
            StreamId::ZERO,
            http::Request::from_parts(parts, body),
        );
    }

    /// The `Upgrade: h2c` request is whole: 101, then HTTP/2 with it as stream 1.
    fn switch(&mut self, s: &mut Socket, ctx: &Ctx<'_>, switch: H2cSwitch) -> Option<H2> {
        match switch.switch(ctx.config.clone(), ctx.now) {
            Ok((answer, conn, body)) => {
                s.transport.push(Bytes::from_static(answer));
                let h2 = H2::new(ctx, conn, Some(body)).unparsed(!s.read_buf.is_empty());
                Some(h2)
            }
            Err(e) => {
                tracing::debug!("upgrade: {}", e.detail);
                self.close()
            }
        }
    }

    /// The handler consumed bytes of its request body (exchange `tag`), or dropped it.
    pub(crate) fn consumed(&mut self, s: &mut Socket, tag: StreamId, c: Consumed) {
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
            s.transport.push(b);
        }
    }

    /// The handler sends a 1xx response before its final one (RFC 9110 §15.2); ignored once
    /// the final response started.
    pub(crate) fn informational(&mut self, s: &mut Socket, head: &[h2core::Header]) {
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
            Ok(()) => s.transport.push(dst.freeze()),
            Err(e) => tracing::debug!("informational response: {e}"),
        }
    }

    /// The handler answered.
    pub(crate) fn respond(&mut self, s: &mut Socket, resp: Response<Body>) {
        let State::Exchange(x) = &mut self.state else {
            return;
        };
        if !matches!(x.response, Sending::Handling) {
            return;
        }
        if x.body.is_some() {
            // The handler kept its request body (to read it as it answers, or as the response
            // body itself): the client may send it now, or it would wait for 100 Continue
            // while we wait for the body (RFC 9110 §10.1.1). A handler that did not want it
            // dropped it before answering, and the client is spared the upload.
            if let Some(b) = self.sc.take_continue() {
                s.transport.push(b);
            }
        }
        let head = h2_http::response_to_h2(&resp);
        let body = resp.into_body();
        let length = body.size_hint();
        let out = body.into_outgoing();
        let mut dst = BytesMut::new();
        let written = http1::response_head_from_h2(&head).and_then(|(status, fields)| {
            self.sc
                .write_response_head(status, None, &fields, length, &mut dst)
        });
        if let Err(e) = written {
            tracing::debug!("response head: {e}");
            s.transport.push(Bytes::from_static(SERVER_ERROR));
            self.close();
            return;
        }
        s.transport.push(dst.freeze());
        x.response = Sending::Body(out);
    }

    /// A malformed request: answer with its status and close (RFC 9112 §6.3).
    fn fail(&mut self, s: &mut Socket, e: &Http1Error) -> Option<H2> {
        if !self.sc.response_started() {
            let mut out = BytesMut::new();
            e.encode_response(&mut out);
            s.transport.push(out.freeze());
        }
        self.close()
    }

    /// Nothing more on this connection: a request body being read fails, a response body
    /// being sent is dropped (its sender fails). Always `None`: no upgrade.
    fn close(&mut self) -> Option<H2> {
        if let State::Exchange(x) = std::mem::replace(&mut self.state, State::Closed) {
            if let Some(inbox) = x.body {
                inbox.fail(Error::ConnectionGone);
            }
        }
        self.closing = true;
        None
    }
}

/// Decodes the request body into the handler's pipe while it keeps up (all of it when
/// discarding).
fn read_request_body(
    sc: &mut ServerConn,
    s: &mut Socket,
    x: &mut Exchange,
    progress: &mut bool,
) -> Result<(), Http1Error> {
    while x.reading && (x.body.is_none() || x.unread < READ_AHEAD) {
        let event = match sc.read_body(&mut s.read_buf) {
            Ok(Some(ev)) => ev,
            Ok(None) if !s.read_closed => return Ok(()),
            Ok(None) => match sc.read_eof() {
                // The body ended with the connection: read_body says End next.
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
                Err(e) => {
                    x.reading = false;
                    if let Some(inbox) = x.body.take() {
                        inbox.fail(Error::Http1(e.to_string()));
                    }
                    return Err(e);
                }
            },
            Err(e) => {
                x.reading = false;
                if let Some(inbox) = x.body.take() {
                    inbox.fail(Error::Http1(e.to_string()));
                }
                return Err(e);
            }
        };
        *progress = true;
        match event {
            BodyEvent::Data(d) => {
                let n = d.len();
                match &x.body {
                    Some(inbox) if inbox.data(d) => x.unread += n,
                    _ => x.body = None,
                }
            }
            BodyEvent::Trailers(t) => {
                if let Some(inbox) = x.body.take() {
                    match h2_http::fields_to_map(&t) {
                        Ok(t) => inbox.trailers(t),
                        Err(e) => inbox.fail(e.into()),
                    }
                }
            }
            BodyEvent::End => {
                x.reading = false;
                if let Some(inbox) = x.body.take() {
                    inbox.end();
                }
            }
        }
    }
    Ok(())
}

enum Pumped {
    Waiting,
    Done,
    Failed,
}

/// Writes response body bytes while the write queue is short.
fn pump(sc: &mut ServerConn, s: &mut Socket, out: &mut Outgoing, waker: &Waker) -> Pumped {
    let mut cx = Context::from_waker(waker);
    loop {
        if s.transport.queued() >= WRITE_HIGH_WATER {
            return Pumped::Waiting;
        }
        let Poll::Ready(chunk) = out.poll_chunk(&mut cx, true) else {
            return Pumped::Waiting;
        };
        let (data, end) = match chunk {
            Chunk::Data(d, last) => (d, last.then_some(None)),
            Chunk::Trailers(t) => (Bytes::new(), Some(Some(t))),
            Chunk::End => (Bytes::new(), Some(None)),
            // Unfinished: the client sees the message incomplete (RFC 9112 §8).
            Chunk::Abort(_) => return Pumped::Failed,
        };
        if !data.is_empty() {
            match sc.send_data(data) {
                Ok(chunk) => chunk.into_parts().for_each(|p| s.transport.push(p)),
                Err(e) => {
                    tracing::debug!("response body: {e}");
                    return Pumped::Failed;
                }
            }
        }
        let Some(trailers) = end else {
            continue;
        };
        let trailers = trailers.map(|t| h2_http::trailers_to_h2(&t));
        return match sc.finish_response(trailers.as_deref()) {
            Ok(end) => {
                s.transport.push(end.unwrap_or_default());
                Pumped::Done
            }
            Err(e) => {
                tracing::debug!("response end: {e}");
                Pumped::Failed
            }
        };
    }
}
