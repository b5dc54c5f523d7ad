//! One HTTP/2 connection on the loop (RFC 9113): what the socket read goes into the core, its
//! events become `http` heads for the role with bodies that stream, and bodies go out as flow
//! control allows (§5.2), through the shell's [`Transport`](h2core::shell::Transport).
//!
//! Received DATA is handed to the body's reader as the core gave it and is released to flow
//! control only when the reader consumed it (`Msg::Consumed`), so the peer is never more than
//! the advertised windows ahead of the reader.

use crate::body::{Body, Out};
use crate::io::Socket;
use crate::pipe::{Consumed, Item, Pipe};
use crate::remote::{next_request_id, Ctx, Key, Msg, Remote, Role};
use crate::response::{PushPromise, PushedResponse, Reply, ReplyTx, Waiting};
use bytes::{Bytes, BytesMut};
use h2_http::{Error, OnInformational};
use h2core::shell::ContentLength;
use h2core::{Connection, Event, Header, Reason, StreamId};
use http::{Request, Response};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};

pub(crate) struct H2 {
    pub(crate) conn: Connection,
    streams: HashMap<StreamId, Stream>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    /// `read_buf` holds bytes not yet fed to the core (the sniffed preface, what followed 101).
    unparsed: bool,
    lengths: ContentLength,
    /// Client: the header bytes already added to the pool's count.
    header_bytes_counted: u64,
}

/// What a stream still needs from the loop.
#[derive(Default)]
struct Stream {
    /// Where received DATA goes: the request body (server) or the response body (client).
    recv: Option<Arc<Pipe>>,
    /// What we still send on it.
    out: Option<Out>,
    /// Some of `out` was taken: it cannot be given back for a retry.
    out_touched: bool,
    /// Client: where the response head goes, and the number its caller knows it by.
    reply: Option<ReplyTx>,
    id: u64,
    on_informational: Option<OnInformational>,
    /// The body was aborted: reset with this reason once what was sent before is out (a
    /// reset drops the stream's queued data).
    abort: Option<Reason>,
}

impl Stream {
    fn done(&self) -> bool {
        self.recv.is_none() && self.out.is_none() && self.reply.is_none() && self.abort.is_none()
    }

    /// The stream is over before its messages are: the body sender fails, the reader sees
    /// the error, the caller gets it (with its request body, if none of it was taken).
    fn fail(self, err: impl Fn() -> Error) {
        if let Some(p) = &self.recv {
            p.deliver(Item::Fail(err()));
        }
        if let Some(tx) = self.reply {
            let back = self.out.filter(|_| !self.out_touched).map(Out::into_body);
            let _ = tx.send(Reply::Failed(err(), back));
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
            header_bytes_counted: 0,
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
        let progress = progress | s.transport.pump(&mut self.conn, ctx.now);
        if let Role::Client {
            slots,
            wake,
            header_bytes,
            ..
        } = ctx.role
        {
            if slots.update(&self.conn) {
                wake();
            }
            let sent = self.conn.stats().header_bytes_sent;
            header_bytes.fetch_add(sent - self.header_bytes_counted, Ordering::Relaxed);
            self.header_bytes_counted = sent;
        }
        progress
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
                    Out::Full(_) if cap == 0 => break,
                    Out::Full(b) => {
                        let chunk = b.split_to(cap.min(b.len()));
                        let last = b.is_empty();
                        let sent = conn.send_data(id, chunk, last).is_ok();
                        sent && !last
                    }
                    Out::Pipe(r) => match r.0.pop(cap > 0) {
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
                        Some(Item::Fail(e)) => {
                            s.abort = Some(match e {
                                Error::Reset(reason) => reason,
                                _ => Reason::CANCEL,
                            });
                            false
                        }
                    },
                };
                s.out_touched = true;
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
        let end_stream = body.is_end_stream();
        if self.conn.send_response(id, head, end_stream).is_err() {
            // The stream is gone: the body (dropped here) fails its sender.
            return;
        }
        if end_stream {
            return;
        }
        let s = self.streams.entry(id).or_default();
        let out = Out::from_body(body);
        if let Out::Pipe(r) = &out {
            r.0.attach(remote.body_notify(key));
        }
        s.out = Some(out);
    }

    /// Client: starts a request; its response head goes to `reply`.
    pub(crate) fn request(
        &mut self,
        ctx: &Ctx<'_>,
        id: u64,
        head: Vec<Header>,
        body: Body,
        reply: ReplyTx,
        on_informational: Option<OnInformational>,
    ) {
        let end_stream = body.is_end_stream();
        match self.conn.send_request(head, end_stream) {
            Ok(stream) => {
                let s = self.streams.entry(stream).or_default();
                s.reply = Some(reply);
                s.id = id;
                s.on_informational = on_informational;
                if !end_stream {
                    let out = Out::from_body(body);
                    if let Out::Pipe(r) = &out {
                        r.0.attach(ctx.remote.body_notify(ctx.key));
                    }
                    s.out = Some(out);
                }
            }
            Err(e) => {
                let _ = reply.send(Reply::Failed(Error::User(e), Some(body)));
            }
        }
    }

    /// Client: the response on `stream` goes to `reply`.
    pub(crate) fn expect(&mut self, stream: StreamId, reply: ReplyTx) {
        self.streams.entry(stream).or_default().reply = Some(reply);
    }

    /// Client: the caller of request `id` gave up before the head: RST_STREAM CANCEL
    /// (RFC 9113 §8.1), and its request body is dropped (its sender fails).
    pub(crate) fn forget(&mut self, id: u64) {
        let found = self
            .streams
            .iter()
            .find(|(_, s)| s.id == id && s.reply.is_some())
            .map(|(&stream, _)| stream);
        if let Some(stream) = found {
            self.streams.remove(&stream);
            let _ = self.conn.reset(stream, Reason::CANCEL);
        }
    }

    /// The reader of `stream`'s received body consumed bytes: they go back to flow control
    /// (WINDOW_UPDATE when the window policy says so, §6.9). A reader that dropped the body
    /// early reads no more: the core decides what the peer is told
    /// (`Connection::stop_receiving`: a client cancels, a server asks the client to stop once
    /// its response is complete).
    pub(crate) fn consumed(&mut self, stream: StreamId, c: Consumed) {
        self.conn.release_capacity(stream, c.n);
        if !c.dropped {
            return;
        }
        if let Some(s) = self.streams.get_mut(&stream) {
            s.recv = None;
        }
        let _ = self.conn.stop_receiving(stream);
    }

    /// The connection is dropped: every body sender and reader fails.
    pub(crate) fn abandon(&mut self) {
        for (_, s) in self.streams.drain() {
            s.fail(|| Error::ConnectionGone);
        }
    }

    /// A body the peer sends on `stream`, read by a user's thread.
    fn receive(&mut self, ctx: &Ctx<'_>, stream: StreamId) -> Body {
        let pipe = Arc::new(Pipe::received(ctx.remote.release(ctx.key, stream), false));
        self.streams.entry(stream).or_default().recv = Some(pipe.clone());
        Body::pipe(pipe)
    }

    fn event(&mut self, ctx: &Ctx<'_>, ev: Event) {
        match ctx.role {
            #[cfg(feature = "test-hooks")]
            Role::Tap { events } => {
                let _ = events.send(ev);
                return;
            }
            Role::Client { slots, wake, .. } => {
                if slots.observe(&self.conn, &ev) {
                    wake();
                }
            }
            Role::Server { .. } => {}
        }
        match ev {
            Event::RequestReceived {
                stream,
                headers,
                end_stream,
            } => self.request_received(ctx, stream, &headers, end_stream),
            Event::ResponseReceived {
                stream,
                headers,
                end_stream,
            } => self.response_received(ctx, stream, &headers, end_stream),
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
                    .and_then(|s| s.recv.as_ref())
                    .is_some_and(|p| p.deliver(Item::Data(data)));
                if !taken {
                    // Nobody will read it: back to flow control at once.
                    self.conn.release_capacity(stream, n);
                }
            }
            Event::TrailersReceived { stream, headers } => {
                if let Some(p) = self.streams.get_mut(&stream).and_then(|s| s.recv.take()) {
                    p.deliver(match h2_http::fields_to_map(&headers) {
                        Ok(t) => Item::Trailers(t),
                        Err(e) => Item::Fail(e.into()),
                    });
                }
            }
            Event::StreamEnded { stream } => {
                if let Some(p) = self.streams.get_mut(&stream).and_then(|s| s.recv.take()) {
                    p.deliver(Item::End);
                }
            }
            Event::StreamReset { stream, reason, .. } => {
                if let Some(s) = self.streams.remove(&stream) {
                    s.fail(|| Error::Reset(reason));
                }
            }
            Event::PushedStreamReceived {
                promised, headers, ..
            } => self.promised(ctx, promised, &headers),
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

    /// Server: a request head arrived; the handler runs now, its body streams.
    fn request_received(
        &mut self,
        ctx: &Ctx<'_>,
        stream: StreamId,
        headers: &[Header],
        end_stream: bool,
    ) {
        let Role::Server { dispatch } = ctx.role else {
            return;
        };
        let parts = match h2_http::request_from_h2(headers) {
            Ok(parts) => parts,
            Err(_) => {
                let _ = self.conn.reset(stream, Reason::PROTOCOL_ERROR);
                return;
            }
        };
        let body = match self.upgrade_body.take() {
            // The `Upgrade: h2c` request, whose body came over HTTP/1.1 (RFC 7540 §3.2).
            Some(b) if stream.value() == 1 => Body::from(b),
            other => {
                self.upgrade_body = other;
                if end_stream {
                    Body::empty()
                } else {
                    self.receive(ctx, stream)
                }
            }
        };
        dispatch(ctx.key, stream, Request::from_parts(parts, body));
    }

    /// Client: the response head arrived; the caller gets it with a streaming body.
    fn response_received(
        &mut self,
        ctx: &Ctx<'_>,
        stream: StreamId,
        headers: &[Header],
        end_stream: bool,
    ) {
        let Some(reply) = self.streams.get_mut(&stream).and_then(|s| s.reply.take()) else {
            return;
        };
        let body = if end_stream {
            Body::empty()
        } else {
            self.receive(ctx, stream)
        };
        let msg = match h2_http::response_from_h2(headers).map(|b| b.body(body)) {
            Ok(Ok(resp)) => Reply::Head(resp),
            Ok(Err(_)) => Reply::Failed(Error::Malformed("response"), None),
            Err(e) => Reply::Failed(e.into(), None),
        };
        // A caller already gone drops the body with the message: the stream is cancelled.
        let _ = reply.send(msg);
    }

    /// Client: the server promised a response (RFC 9113 §8.4). Delivered while someone
    /// listens on `Client::pushes`, else refused with RST_STREAM CANCEL.
    fn promised(&mut self, ctx: &Ctx<'_>, promised: StreamId, headers: &[Header]) {
        let listener = match ctx.role {
            Role::Client { pushes, .. } => pushes.lock().ok().and_then(|p| p.clone()),
            _ => None,
        };
        let request = h2_http::request_from_h2(headers).map(|p| Request::from_parts(p, ()));
        let (Some(listener), Ok(request)) = (listener, request) else {
            let _ = self.conn.reset(promised, Reason::CANCEL);
            return;
        };
        let (reply, rx) = mpsc::channel();
        let id = next_request_id();
        let remote = ctx.remote.clone();
        let forget = Box::new(move || {
            let _ = remote.send(Msg::Forget { id });
        });
        let s = self.streams.entry(promised).or_default();
        s.reply = Some(reply);
        s.id = id;
        let promise = PushPromise {
            request,
            response: PushedResponse(Waiting::new(rx, forget)),
        };
        if listener.send(promise).is_err() {
            self.streams.remove(&promised);
            let _ = self.conn.reset(promised, Reason::CANCEL);
        }
    }
}
