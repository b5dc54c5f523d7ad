//! HTTP/1.1 on the same port as h2c, with the same handler: every rule of the protocol is in
//! `h2core::http1::ServerConn` (heads, body framing, keep-alive, 100-continue); this module
//! moves bytes between it and the loop. `Upgrade: h2c` switches the connection to HTTP/2.

use crate::body::{Body, Item};
use crate::event_loop::{dispatch, Conn, Ctx, Key, Msg, Out, Remote, Role, H2};
use crate::MAX_REQUEST_BODY;
use bytes::{Bytes, BytesMut};
use h2core::http1::{self, BodyEvent, BodyKind, Http1Error, IncomingRequest, ServerConn};
use h2core::{Connection, Header, StreamId};
use http::Response;

/// The largest request body read whole before an `Upgrade: h2c` (RFC 7540 §3.2: the body comes
/// over HTTP/1.1 first); a larger one is answered over HTTP/1.1 without upgrading.
const MAX_UPGRADE_BODY: u64 = 1 << 20;

/// Bytes of pipelined requests read ahead while a response is pending, at most.
const READ_AHEAD: usize = 64 * 1024;

const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// One HTTP/1.1 connection's exchange state.
pub(crate) struct H1 {
    sc: ServerConn,
    state: State,
    /// Over TLS: requests are `https`, and `Upgrade: h2c` is ignored (h2c is HTTP/2 over
    /// cleartext TCP, RFC 9113 §3.2; over TLS only ALPN selects HTTP/2).
    secure: bool,
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
    /// `HTTP2-Settings` of an upgrade request we will accept.
    upgrade: Option<Bytes>,
}

impl H1 {
    /// `secure`: the connection is TLS.
    pub(crate) fn new(secure: bool) -> H1 {
        H1 {
            sc: ServerConn::new(http1::Limits::default()),
            state: State::Idle,
            secure,
        }
    }

    /// Reads and answers what it can; returns the HTTP/2 connection after an `Upgrade: h2c`.
    pub(crate) fn step(
        &mut self,
        c: &mut Conn,
        ctx: &Ctx<'_>,
        scratch: &mut [u8],
        progress: &mut bool,
    ) -> Option<H2> {
        let reading = matches!(self.state, State::Idle | State::Reading(_));
        if reading && c.read_buf.len() < READ_AHEAD && c.read_some(scratch) {
            *progress = true;
        }
        loop {
            match &mut self.state {
                State::Idle => {
                    if c.closing {
                        return None;
                    }
                    match self.sc.read_head(&mut c.read_buf) {
                        Ok(Some(req)) => {
                            *progress = true;
                            self.start(c, req);
                        }
                        Ok(None) => {
                            if self.sc.should_close() {
                                c.closing = true;
                            } else if c.read_closed {
                                let _ = self.sc.read_eof();
                                c.closing = true;
                            }
                            return None;
                        }
                        Err(e) => {
                            self.fail(c, &e);
                            return None;
                        }
                    }
                }
                State::Reading(p) => match self.sc.read_body(&mut c.read_buf) {
                    Ok(Some(BodyEvent::Data(d))) => {
                        *progress = true;
                        if p.body.len() + d.len() > MAX_REQUEST_BODY {
                            c.push(Bytes::from_static(TOO_LARGE));
                            self.close(c);
                            return None;
                        }
                        p.body.extend_from_slice(&d);
                    }
                    Ok(Some(BodyEvent::Trailers(_))) => {}
                    Ok(Some(BodyEvent::End)) => {
                        *progress = true;
                        let State::Reading(p) = std::mem::replace(&mut self.state, State::Handling)
                        else {
                            unreachable!("matched above")
                        };
                        return self.complete(c, ctx, p);
                    }
                    Ok(None) => {
                        if !c.read_closed {
                            return None;
                        }
                        match self.sc.read_eof() {
                            // The body ended with the connection: read_body says End next.
                            Ok(Some(_)) => {}
                            Ok(None) => {
                                self.close(c);
                                return None;
                            }
                            Err(e) => {
                                self.fail(c, &e);
                                return None;
                            }
                        }
                    }
                    Err(e) => {
                        self.fail(c, &e);
                        return None;
                    }
                },
                State::Sending(_) => {
                    if !self.pump(c) {
                        return None;
                    }
                    *progress = true;
                    if c.closing {
                        return None;
                    }
                    self.state = State::Idle;
                }
                State::Handling | State::Closed => return None,
            }
        }
    }

    fn start(&mut self, c: &mut Conn, req: IncomingRequest) {
        let scheme = if self.secure { "https" } else { "http" };
        let headers = match req.head.to_h2_headers(scheme) {
            Ok(h) => h,
            Err(e) => return self.fail(c, &e),
        };
        if matches!(req.body, BodyKind::ContentLength(n) if n > MAX_REQUEST_BODY as u64) {
            // Known too large before any of it is sent: no 100 Continue, just the answer.
            c.push(Bytes::from_static(TOO_LARGE));
            return self.close(c);
        }
        let small = matches!(req.body, BodyKind::Empty)
            || matches!(req.body, BodyKind::ContentLength(n) if n <= MAX_UPGRADE_BODY);
        let upgrade = req
            .head
            .h2c_upgrade()
            .filter(|_| small && !self.secure)
            .map(|u| u.settings_payload);
        // The body is collected for the handler: ask for it at once (RFC 9110 §10.1.1).
        if let Some(b) = self.sc.take_continue() {
            c.push(b);
        }
        self.state = State::Reading(Pending {
            headers,
            version: req.head.version,
            body: BytesMut::new(),
            upgrade,
        });
    }

    /// The request is whole: upgrade, or hand it to the handler.
    fn complete(&mut self, c: &mut Conn, ctx: &Ctx<'_>, p: Pending) -> Option<H2> {
        if let Some(settings) = p.upgrade {
            c.push(Bytes::from_static(http1::SWITCHING_PROTOCOLS));
            return match Connection::new_upgraded_server(
                ctx.config.clone(),
                ctx.now,
                settings,
                p.headers,
            ) {
                Ok(conn) => Some(H2::new(conn, Some(p.body.freeze()), !c.read_buf.is_empty())),
                Err(e) => {
                    tracing::debug!("upgrade: {}", e.detail);
                    self.close(c);
                    None
                }
            };
        }
        let Role::Server { handler, pool } = ctx.role else {
            self.close(c);
            return None;
        };
        let req = h2_http::request_from_h2(&p.headers).map(|mut parts| {
            parts.version = match p.version {
                http1::Version::Http10 => http::Version::HTTP_10,
                http1::Version::Http11 => http::Version::HTTP_11,
            };
            http::Request::from_parts(parts, p.body.freeze())
        });
        match req {
            Ok(req) => dispatch(handler, pool, ctx.remote, ctx.key, StreamId::ZERO, req),
            Err(_) => {
                c.push(Bytes::from_static(BAD_REQUEST));
                self.close(c);
            }
        }
        None
    }

    /// The handler answered.
    pub(crate) fn respond(
        &mut self,
        c: &mut Conn,
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
            c.push(Bytes::from_static(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            ));
            out.abandon();
            return self.close(c);
        }
        c.push(dst.freeze());
        if let Out::Chan(ch) = &out {
            let remote = remote.clone();
            ch.attach(Box::new(move || {
                let _ = remote.send(Msg::Body { key });
            }));
        }
        self.state = State::Sending(out);
    }

    /// Writes body bytes while the write queue is short; true once the response is complete.
    fn pump(&mut self, c: &mut Conn) -> bool {
        loop {
            if c.queued >= crate::event_loop::WRITE_HIGH_WATER {
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
                },
            };
            if !data.is_empty() {
                match self.sc.send_data(data) {
                    Ok(chunk) => chunk.into_parts().for_each(|p| c.push(p)),
                    Err(e) => {
                        tracing::debug!("response body: {e}");
                        self.close(c);
                        return true;
                    }
                }
            }
            let Some(trailers) = end else {
                continue;
            };
            let trailers = trailers.map(|t| h2_http::trailers_to_h2(&t));
            match self.sc.finish_response(trailers.as_deref()) {
                Ok(end) => c.push(end.unwrap_or_default()),
                Err(e) => {
                    tracing::debug!("response end: {e}");
                    self.close(c);
                    return true;
                }
            }
            self.state = State::Idle;
            if self.sc.should_close() {
                c.closing = true;
            }
            return true;
        }
    }

    /// A malformed request: answer with its status and close (RFC 9112 §6.3).
    fn fail(&mut self, c: &mut Conn, e: &Http1Error) {
        if !self.sc.response_started() {
            let mut out = BytesMut::new();
            e.encode_response(&mut out);
            c.push(out.freeze());
        }
        self.close(c);
    }

    fn close(&mut self, c: &mut Conn) {
        if let State::Sending(out) = std::mem::replace(&mut self.state, State::Closed) {
            out.abandon();
        }
        c.closing = true;
    }
}
