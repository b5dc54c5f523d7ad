//! HTTP/1.1 on the same port as h2c, with the same handler: every rule of the protocol is in
//! `h2core::http1::ServerConn` (heads, body framing, keep-alive, 100-continue) and the shell
//! (`H2cSwitch` for `Upgrade: h2c`, `Http1Timer` for the idle and head deadlines); this module
//! moves bytes between them and the socket.

use crate::body::{Body, Item, Out, MAX_REQUEST_BODY};
use crate::h2::H2;
use crate::io::Socket;
use crate::remote::{Ctx, Key, Remote, Role};
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyEvent, BodyKind, Http1Error, IncomingRequest, ServerConn};
use h2core::shell::{Expired, H2cSwitch, Http1Timer, REQUEST_TIMEOUT};
use h2core::{Header, StreamId};
use http::Response;
use std::time::Instant;

/// Bytes of pipelined requests read ahead while a response is pending, at most.
const READ_AHEAD: usize = 64 * 1024;

const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
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
    /// No more requests: close once the queue is written.
    pub(crate) closing: bool,
}

enum State {
    /// Waiting for a request head.
    Idle,
    /// Collecting a request body.
    Reading(Pending),
    /// The handler runs.
    Handling,
    /// The response body goes out.
    Sending(Out),
    /// Nothing more on this connection.
    Closed,
}

struct Pending {
    headers: Vec<Header>,
    version: http1::Version,
    body: BytesMut,
    /// An `Upgrade: h2c` request we accept: it collects the body instead.
    upgrade: Option<H2cSwitch>,
}

impl H1 {
    /// `secure`: the connection is TLS.
    pub(crate) fn new(secure: bool, timer: Http1Timer) -> H1 {
        H1 {
            sc: ServerConn::new(http1::Limits::default()),
            state: State::Idle,
            secure,
            timer,
            closing: false,
        }
    }

    /// True once the connection should close: no more requests, and none in progress (a
    /// graceful shutdown lets the current exchange finish).
    pub(crate) fn is_over(&self) -> bool {
        self.closing && !matches!(self.state, State::Handling | State::Sending(_))
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
        let reading = matches!(self.state, State::Idle | State::Reading(_));
        if reading && s.read_buf.len() < READ_AHEAD && s.read_some(scratch) {
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
                            self.start(s, req);
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
                State::Reading(p) => match self.sc.read_body(&mut s.read_buf) {
                    Ok(Some(BodyEvent::Data(d))) => {
                        *progress = true;
                        match &mut p.upgrade {
                            Some(switch) => switch.body_data(&d),
                            None if p.body.len() + d.len() > MAX_REQUEST_BODY => {
                                s.transport.push(Bytes::from_static(TOO_LARGE));
                                return self.close();
                            }
                            None => p.body.extend_from_slice(&d),
                        }
                    }
                    Ok(Some(BodyEvent::Trailers(_))) => {}
                    Ok(Some(BodyEvent::End)) => {
                        *progress = true;
                        let State::Reading(p) = std::mem::replace(&mut self.state, State::Handling)
                        else {
                            unreachable!("matched above")
                        };
                        return self.complete(s, ctx, p);
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
                State::Sending(_) => {
                    if !self.pump(s) {
                        return None;
                    }
                    *progress = true;
                    if self.closing {
                        return None;
                    }
                    self.timer.await_head(ctx.now);
                    self.state = State::Idle;
                }
                State::Handling | State::Closed => return None,
            }
        }
    }

    fn start(&mut self, s: &mut Socket, req: IncomingRequest) {
        let scheme = if self.secure { "https" } else { "http" };
        let headers = match req.head.to_h2_headers(scheme) {
            Ok(h) => h,
            Err(e) => {
                self.fail(s, &e);
                return;
            }
        };
        if matches!(req.body, BodyKind::ContentLength(n) if n > MAX_REQUEST_BODY as u64) {
            // Known too large before any of it is sent: no 100 Continue, just the answer.
            s.transport.push(Bytes::from_static(TOO_LARGE));
            self.close();
            return;
        }
        // The body is collected for the handler: ask for it at once (RFC 9110 §10.1.1).
        if let Some(b) = self.sc.take_continue() {
            s.transport.push(b);
        }
        self.state = State::Reading(Pending {
            headers,
            version: req.head.version,
            body: BytesMut::new(),
            upgrade: H2cSwitch::offer(&req, self.secure),
        });
    }

    /// The request is whole: upgrade, or hand it to the handler.
    fn complete(&mut self, s: &mut Socket, ctx: &Ctx<'_>, p: Pending) -> Option<H2> {
        if let Some(switch) = p.upgrade {
            return match switch.switch(ctx.config.clone(), ctx.now) {
                Ok((answer, conn, body)) => {
                    s.transport.push(Bytes::from_static(answer));
                    Some(H2::new(conn, Some(body), !s.read_buf.is_empty()))
                }
                Err(e) => {
                    tracing::debug!("upgrade: {}", e.detail);
                    self.close()
                }
            };
        }
        let Role::Server { dispatch } = ctx.role else {
            return self.close();
        };
        match h2_http::request_from_h2(&p.headers) {
            Ok(mut parts) => {
                parts.version = match p.version {
                    http1::Version::Http10 => http::Version::HTTP_10,
                    http1::Version::Http11 => http::Version::HTTP_11,
                };
                let req = http::Request::from_parts(parts, p.body.freeze());
                dispatch(ctx.key, StreamId::ZERO, req);
                None
            }
            Err(_) => {
                s.transport.push(Bytes::from_static(BAD_REQUEST));
                self.close()
            }
        }
    }

    /// The handler answered.
    pub(crate) fn respond(
        &mut self,
        s: &mut Socket,
        key: Key,
        remote: &Remote,
        resp: Response<Body>,
    ) {
        let head = h2_http::response_to_h2(&resp);
        let out = Out::from_body(resp.into_body());
        if !matches!(self.state, State::Handling) {
            return out.abandon();
        }
        let length = match &out {
            Out::Full(b) => Some(b.len() as u64),
            Out::Chan(_) => None,
        };
        let mut dst = BytesMut::new();
        let written = http1::response_head_from_h2(&head).and_then(|(status, fields)| {
            self.sc
                .write_response_head(status, None, &fields, length, &mut dst)
        });
        if let Err(e) = written {
            tracing::debug!("response head: {e}");
            s.transport.push(Bytes::from_static(SERVER_ERROR));
            out.abandon();
            self.close();
            return;
        }
        s.transport.push(dst.freeze());
        if let Out::Chan(ch) = &out {
            ch.attach(remote.body_notify(key));
        }
        self.state = State::Sending(out);
    }

    /// Writes body bytes while the write queue is short; true once the response is complete.
    fn pump(&mut self, s: &mut Socket) -> bool {
        loop {
            if s.transport.queued() >= WRITE_HIGH_WATER {
                return false;
            }
            let State::Sending(out) = &mut self.state else {
                return true;
            };
            let (data, end) = match out {
                Out::Full(b) => (std::mem::take(b), Some(None)),
                Out::Chan(ch) => match ch.pop(true) {
                    None => return false,
                    Some(Item::Data(d)) => (d, None),
                    Some(Item::Trailers(t)) => (Bytes::new(), Some(Some(t))),
                    Some(Item::End) => (Bytes::new(), Some(None)),
                    // Unfinished: the client sees the message incomplete (RFC 9112 §8).
                    Some(Item::Abort(_)) => return self.close().is_none(),
                },
            };
            if !data.is_empty() {
                match self.sc.send_data(data) {
                    Ok(chunk) => chunk.into_parts().for_each(|p| s.transport.push(p)),
                    Err(e) => {
                        tracing::debug!("response body: {e}");
                        return self.close().is_none();
                    }
                }
            }
            let Some(trailers) = end else {
                continue;
            };
            let trailers = trailers.map(|t| h2_http::trailers_to_h2(&t));
            match self.sc.finish_response(trailers.as_deref()) {
                Ok(end) => s.transport.push(end.unwrap_or_default()),
                Err(e) => {
                    tracing::debug!("response end: {e}");
                    return self.close().is_none();
                }
            }
            self.state = State::Idle;
            self.closing |= self.sc.should_close();
            return true;
        }
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

    /// Nothing more on this connection (a body being sent is abandoned). Always `None`: no
    /// upgrade.
    fn close(&mut self) -> Option<H2> {
        if let State::Sending(out) = std::mem::replace(&mut self.state, State::Closed) {
            out.abandon();
        }
        self.closing = true;
        None
    }
}
