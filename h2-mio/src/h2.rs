//! One HTTP/2 connection on the loop (RFC 9113): what the socket read goes into the core, its
//! events become whole `http` messages for the role, and bodies go out as flow control allows
//! (§5.2), through the shell's [`Transport`](h2core::shell::Transport).

use crate::body::{Body, Item, Out, Trailers, MAX_REQUEST_BODY};
use crate::io::Socket;
use crate::remote::{Ctx, Key, Remote, ReplyTx, Role};
use bytes::{Bytes, BytesMut};
use h2_http::Error;
use h2core::shell::ContentLength;
use h2core::{Connection, Event, Header, Reason, StreamId};
use http::Response;
use std::collections::HashMap;

pub(crate) struct H2 {
    pub(crate) conn: Connection,
    streams: HashMap<StreamId, Stream>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    /// `read_buf` holds bytes not yet fed to the core (the sniffed preface, what followed 101).
    unparsed: bool,
    lengths: ContentLength,
}

/// What a stream still needs from the loop.
#[derive(Default)]
struct Stream {
    /// A received head whose message is being collected.
    head: Option<Vec<Header>>,
    body: BytesMut,
    trailers: Option<Vec<Header>>,
    /// What we still send on it.
    out: Option<Out>,
    /// Client: where the response goes.
    reply: Option<ReplyTx>,
    /// The body was aborted: reset with this reason once what was sent before is out (a
    /// reset drops the stream's queued data).
    abort: Option<Reason>,
}

impl Stream {
    fn done(&self) -> bool {
        self.head.is_none() && self.out.is_none() && self.reply.is_none() && self.abort.is_none()
    }

    /// The stream is over before its message: the body's sender and the caller are told.
    fn fail(self, err: impl FnOnce() -> Error) {
        if let Some(out) = self.out {
            out.abandon();
        }
        if let Some(tx) = self.reply {
            let _ = tx.send(Err(err()));
        }
    }
}

impl H2 {
    pub(crate) fn new(conn: Connection, upgrade_body: Option<Bytes>, unparsed: bool) -> H2 {
        H2 {
            conn,
            streams: HashMap::new(),
            upgrade_body,
            unparsed,
            lengths: ContentLength::new(),
        }
    }

    /// One round: read, feed the core, handle its events, send bodies, take its output.
    pub(crate) fn step(&mut self, s: &mut Socket, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
        let mut progress = false;
        if self.unparsed {
            // Fed as one read, before any more is read: its replies go out first.
            self.unparsed = false;
            let _ = self.conn.handle_input(ctx.now, &mut s.read_buf);
            progress = true;
        } else if self.conn.wants_read() && s.read_some(scratch) {
            progress = true;
            if !s.read_buf.is_empty() {
                let _ = self.conn.handle_input(ctx.now, &mut s.read_buf);
            }
            if s.read_closed {
                self.conn.handle_eof(ctx.now);
            }
        }
        if s.read_buf.is_empty() && s.read_buf.capacity() > 4096 {
            // An idle connection keeps no read buffer.
            s.read_buf = BytesMut::new();
        }
        progress |= self.events(s, ctx);
        progress |= self.pump();
        self.streams.retain(|_, st| !st.done());
        if let Role::Client { slots, wake } = ctx.role {
            if slots.update(&self.conn) {
                wake();
            }
        }
        progress | s.transport.pump(&mut self.conn, ctx.now)
    }

    /// Writing failed: the connection is over for the core too.
    pub(crate) fn write_failed(&mut self, s: &mut Socket, ctx: &Ctx<'_>) {
        self.conn.handle_eof(ctx.now);
        self.events(s, ctx);
    }

    fn events(&mut self, s: &mut Socket, ctx: &Ctx<'_>) -> bool {
        let mut progress = false;
        while let Some(ev) = self.conn.poll_event() {
            s.transport.observe(&self.conn, &ev);
            self.event(ctx, ev);
            progress = true;
        }
        progress
    }

    /// Sends body bytes on streams that have send capacity: a body is taken only as fast as
    /// flow control lets it go out.
    fn pump(&mut self) -> bool {
        let mut progress = false;
        let conn = &mut self.conn;
        for (&id, s) in self.streams.iter_mut() {
            while let Some(out) = s.out.as_mut() {
                let cap = conn.send_capacity(id);
                let more = match out {
                    Out::Full(b) if cap == 0 => break,
                    Out::Full(b) => {
                        let chunk = b.split_to(cap.min(b.len()));
                        let last = b.is_empty();
                        conn.send_data(id, chunk, last).is_ok() && !last
                    }
                    Out::Chan(ch) => match ch.pop(cap > 0) {
                        None => break,
                        Some(Item::Data(d)) => conn.send_data(id, d, false).is_ok(),
                        Some(Item::Trailers(t)) => {
                            let _ = conn.send_trailers(id, h2_http::trailers_to_h2(&t));
                            false
                        }
                        Some(Item::End) => {
                            let _ = conn.send_data(id, Bytes::new(), true);
                            false
                        }
                        Some(Item::Abort(reason)) => {
                            s.abort = Some(reason);
                            false
                        }
                    },
                };
                progress = true;
                if !more {
                    if let Some(out) = s.out.take() {
                        out.abandon();
                    }
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

    /// Sends the head of a handler's response and queues its body.
    pub(crate) fn respond(
        &mut self,
        key: Key,
        remote: &Remote,
        id: StreamId,
        resp: Response<Body>,
    ) {
        let mut head = h2_http::response_to_h2(&resp);
        let body = resp.into_body();
        self.lengths.apply(&mut head, body.size_hint());
        let out = Out::from_body(body);
        let end_stream = matches!(&out, Out::Full(b) if b.is_empty());
        if self.conn.send_response(id, head, end_stream).is_err() || end_stream {
            return out.abandon();
        }
        if let Out::Chan(ch) = &out {
            ch.attach(remote.body_notify(key));
        }
        self.streams.entry(id).or_default().out = Some(out);
    }

    /// Client: starts a request; its response goes to `reply`.
    pub(crate) fn request(&mut self, head: Vec<Header>, body: Bytes, reply: ReplyTx) {
        match self.conn.send_request(head, body.is_empty()) {
            Ok(id) => {
                let s = self.streams.entry(id).or_default();
                s.reply = Some(reply);
                s.out = (!body.is_empty()).then_some(Out::Full(body));
            }
            Err(e) => {
                let _ = reply.send(Err(Error::User(e)));
            }
        }
    }

    /// Client: the response on `stream` goes to `reply`.
    pub(crate) fn expect(&mut self, stream: StreamId, reply: ReplyTx) {
        self.streams.entry(stream).or_default().reply = Some(reply);
    }

    /// The connection is dropped: every body sender fails.
    pub(crate) fn abandon(&mut self) {
        for (_, s) in self.streams.drain() {
            s.fail(|| Error::ConnectionGone);
        }
    }

    fn event(&mut self, ctx: &Ctx<'_>, ev: Event) {
        match ctx.role {
            #[cfg(feature = "test-hooks")]
            Role::Tap { events } => {
                let _ = events.send(ev);
                return;
            }
            Role::Client { slots, wake } => {
                if slots.observe(&self.conn, &ev) {
                    wake();
                }
            }
            Role::Server { .. } => {}
        }
        match ev {
            Event::RequestReceived {
                stream, headers, ..
            }
            | Event::ResponseReceived {
                stream, headers, ..
            } => self.streams.entry(stream).or_default().head = Some(headers),
            Event::DataReceived { stream, data, .. } => {
                // Collected for the handler or the caller: consumed at once.
                self.conn.release_capacity(stream, data.len());
                let Some(s) = self.streams.get_mut(&stream).filter(|s| s.head.is_some()) else {
                    return;
                };
                if s.body.len() + data.len() <= MAX_REQUEST_BODY {
                    return s.body.extend_from_slice(&data);
                }
                s.head = None;
                s.body = BytesMut::new();
                if let Role::Server { .. } = ctx.role {
                    // RFC 9113 §8.1: a complete response, then the rest is not wanted.
                    let head = vec![Header::new(":status", "413")];
                    let _ = self.conn.send_response(stream, head, true);
                    let _ = self.conn.reset(stream, Reason::NO_ERROR);
                } else {
                    let _ = self.conn.reset(stream, Reason::CANCEL);
                    if let Some(tx) = s.reply.take() {
                        let _ = tx.send(Err(Error::Malformed("response body too large")));
                    }
                }
            }
            Event::TrailersReceived { stream, headers } => {
                if let Some(s) = self.streams.get_mut(&stream) {
                    s.trailers = Some(headers);
                }
            }
            Event::StreamEnded { stream } => self.ended(ctx, stream),
            Event::StreamReset { stream, reason, .. } => {
                if let Some(s) = self.streams.remove(&stream) {
                    s.fail(|| Error::Reset(reason));
                }
            }
            Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            } => {
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
    }

    /// A whole message arrived: a request for the handler, or the caller's response.
    fn ended(&mut self, ctx: &Ctx<'_>, stream: StreamId) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        let Some(head) = s.head.take() else {
            return;
        };
        let mut body = std::mem::take(&mut s.body).freeze();
        if stream.value() == 1 {
            if let Some(b) = self.upgrade_body.take() {
                body = b;
            }
        }
        match ctx.role {
            Role::Server { dispatch } => match h2_http::request_from_h2(&head) {
                Ok(parts) => dispatch(ctx.key, stream, http::Request::from_parts(parts, body)),
                Err(_) => {
                    let _ = self.conn.reset(stream, Reason::PROTOCOL_ERROR);
                }
            },
            Role::Client { .. } => {
                let trailers = s.trailers.take();
                if let Some(tx) = s.reply.take() {
                    let _ = tx.send(client_response(&head, body, trailers));
                }
            }
            #[cfg(feature = "test-hooks")]
            Role::Tap { .. } => {}
        }
    }
}

fn client_response(
    head: &[Header],
    body: Bytes,
    trailers: Option<Vec<Header>>,
) -> Result<Response<Bytes>, Error> {
    let mut b = h2_http::response_from_h2(head)?;
    if let Some(t) = trailers {
        b = b.extension(Trailers(h2_http::fields_to_map(&t)?));
    }
    b.body(body).map_err(|_| Error::Malformed("response"))
}
