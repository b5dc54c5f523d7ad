//! One HTTP/2 connection's streams as the user sees them: core events become `http` messages,
//! body chunks and handler calls; commands from handles and bodies become calls on the core.
//! The socket, the write queue and the timer are the driver's (`driver.rs`).

use crate::body::{Body, Flow, Frame, Recv};
use crate::command::Command;
use crate::convert;
use crate::handle::{PushPromise, PushedResponse, StreamHandle};
use crate::handler::{Answer, Handler, Responding};
use crate::shared::Shared;
use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2_http::Error;
use h2core::shell::ContentLength;
use h2core::{Connection, Event, Header, Reason, StreamId};
use http::{Request, Response};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub(crate) enum RoleState {
    Server {
        handler: Handler,
    },
    Client {
        pushes: Option<mpsc::UnboundedSender<PushPromise>>,
    },
    /// Every core event goes to this channel as it is (the scenario corpus through the adapter).
    #[cfg(feature = "test-hooks")]
    Tap {
        events: mpsc::UnboundedSender<Event>,
    },
}

#[derive(Default)]
struct Entry {
    recv_tx: Option<mpsc::UnboundedSender<Result<Frame, Error>>>,
    resp_tx: Option<oneshot::Sender<Result<Response<Body>, Error>>>,
    body: Option<Body>,
    /// Where an unread request body goes back if the stream is refused (see `Command::Request`).
    give_back: Option<oneshot::Sender<Body>>,
    /// Client: where 1xx responses to the request go.
    informational: Option<h2_http::OnInformational>,
}

impl Entry {
    fn done(&self) -> bool {
        self.recv_tx.is_none() && self.resp_tx.is_none() && self.body.is_none()
    }
}

/// The streams of one connection, and the core that carries them.
pub(crate) struct Session {
    pub conn: Connection,
    role: RoleState,
    pub shared: Arc<Shared>,
    streams: HashMap<StreamId, Entry>,
    user_rx: mpsc::UnboundedReceiver<Command>,
    user_open: bool,
    /// Commands of the handles this task gives out (`StreamHandle`).
    internal_tx: mpsc::UnboundedSender<Command>,
    internal_rx: mpsc::UnboundedReceiver<Command>,
    /// How received bodies are read.
    flow_tx: mpsc::UnboundedSender<Flow>,
    flow_rx: mpsc::UnboundedReceiver<Flow>,
    ping: Option<oneshot::Sender<Result<Duration, Error>>>,
    pub error: Option<Error>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    /// The handlers answering requests on this connection, polled inside this task: a
    /// response needs no task spawn nor channel hop, and the responses to a batch of requests
    /// go out in the write that follows it.
    handlers: FuturesUnordered<Responding>,
    /// Handlers for requests of this round, not polled yet (see `poll_handlers`).
    fresh_handlers: Vec<Responding>,
    /// Dropping one cancels the waiting handler of its stream.
    cancels: HashMap<StreamId, oneshot::Sender<()>>,
    content_length: ContentLength,
}

impl Session {
    pub fn new(
        conn: Connection,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Session {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let (flow_tx, flow_rx) = mpsc::unbounded_channel();
        Session {
            conn,
            role,
            shared,
            streams: HashMap::new(),
            user_rx,
            user_open: true,
            internal_tx,
            internal_rx,
            flow_tx,
            flow_rx,
            ping: None,
            error: None,
            upgrade_body: None,
            handlers: FuturesUnordered::new(),
            fresh_handlers: Vec::new(),
            cancels: HashMap::new(),
            content_length: ContentLength::new(),
        }
    }

    /// Stream 1's request body, received over HTTP/1.1 before an upgrade.
    pub fn upgrade_body(&mut self, body: Bytes) {
        self.upgrade_body = Some(body);
    }

    /// The response on `stream` (stream 1 after an upgrade) goes to `tx`.
    pub fn expect_response(
        &mut self,
        stream: StreamId,
        tx: oneshot::Sender<Result<Response<Body>, Error>>,
    ) {
        self.streams.entry(stream).or_default().resp_tx = Some(tx);
    }

    /// Takes what handles and bodies asked for; true if anything was.
    pub fn poll_commands(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        while self.user_open {
            match self.user_rx.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => self.command(cmd, now),
                Poll::Ready(None) => {
                    // Every user handle is gone: close gracefully once streams finish.
                    self.user_open = false;
                    if matches!(self.role, RoleState::Client { .. }) {
                        let _ = self.conn.shutdown(now);
                    }
                }
                Poll::Pending => break,
            }
            progress = true;
        }
        while let Poll::Ready(Some(cmd)) = self.internal_rx.poll_recv(cx) {
            self.command(cmd, now);
            progress = true;
        }
        while let Poll::Ready(Some(flow)) = self.flow_rx.poll_recv(cx) {
            match flow {
                Flow::Consumed { stream, n } => self.conn.release_capacity(stream, n),
                Flow::Dropped { stream, unread } => self.body_dropped(stream, unread),
            }
            progress = true;
        }
        progress
    }

    fn command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Request {
                head,
                body,
                tx,
                pool,
                informational,
            } => {
                let end_stream = body.is_end_stream();
                let reserved = pool.is_some();
                // A request whose sender is already gone is not sent at all.
                let sent = if tx.is_closed() {
                    Err(h2core::UserError::ConnectionClosed)
                } else {
                    self.conn.send_request(head, end_stream)
                };
                match sent {
                    Ok(id) => {
                        let entry = self.streams.entry(id).or_default();
                        entry.resp_tx = Some(tx);
                        entry.informational = informational;
                        if !end_stream {
                            entry.body = Some(body);
                            entry.give_back = pool;
                        }
                    }
                    Err(e) => {
                        // Never sent: the body is still whole.
                        if let Some(back) = pool {
                            let _ = back.send(body);
                        }
                        let _ = tx.send(Err(Error::User(e)));
                    }
                }
                if reserved {
                    // The stream now counts as active (or failed): release the reservation.
                    self.update_slots();
                    self.shared.slots.release();
                }
            }
            Command::Abandoned => {
                // RFC 9113 §8.1, §5.4.2: a client that no longer wants the response cancels
                // its stream, so the server stops working on it.
                let conn = &mut self.conn;
                self.streams.retain(|&id, e| {
                    let gone = e.resp_tx.as_ref().is_some_and(|tx| tx.is_closed());
                    if gone {
                        let _ = conn.reset(id, Reason::CANCEL);
                    }
                    !gone
                });
            }
            Command::Informational { stream, head } => {
                let _ = self.conn.send_informational(stream, head);
            }
            Command::Push {
                parent,
                request,
                head,
                body,
                tx,
            } => {
                let r = self.conn.push_promise(parent, request).and_then(|id| {
                    let end_stream = body.is_end_stream();
                    self.conn.send_response(id, head, end_stream)?;
                    if !end_stream {
                        self.streams.entry(id).or_default().body = Some(body);
                    }
                    Ok(())
                });
                let _ = tx.send(r.map_err(Error::User));
            }
            Command::Shutdown => {
                let _ = self.conn.shutdown(now);
            }
            #[cfg(feature = "test-hooks")]
            Command::Core(call) => call(&mut self.conn, now),
            Command::Ping { tx } => match self.conn.ping(*b"h2-async", now) {
                Ok(()) => self.ping = Some(tx),
                Err(e) => {
                    let _ = tx.send(Err(Error::User(e)));
                }
            },
        }
    }

    /// The reader of a received body dropped it; `unread` bytes it never read go back to flow
    /// control. If the body had not ended, the core decides what the peer is told
    /// (`Connection::stop_receiving`: a client cancels the stream, a server asks the client to
    /// stop sending once its response is complete, RFC 9113 §8.1).
    fn body_dropped(&mut self, stream: StreamId, unread: usize) {
        self.conn.release_capacity(stream, unread);
        let reading = self
            .streams
            .get_mut(&stream)
            .and_then(|e| e.recv_tx.take())
            .is_some();
        if reading {
            let _ = self.conn.stop_receiving(stream);
        }
    }

    /// Sends the handler's response on `stream`: its head now, its body as flow control allows.
    fn respond(&mut self, stream: StreamId, resp: Response<Body>) {
        let mut head = convert::response_to_h2(&resp);
        let mut body = resp.into_body();
        let end_stream = body.is_end_stream();
        self.content_length.apply(&mut head, body.size_hint());
        if self.conn.send_response(stream, head, end_stream).is_err() || end_stream {
            return;
        }
        // A whole body the window has room for goes with the head, without a stream entry.
        let fits = body
            .size_hint()
            .is_some_and(|n| n <= self.conn.send_capacity(stream) as u64);
        if fits {
            if let Some(data) = body.take_whole() {
                let _ = self.conn.send_data(stream, data, true);
                return;
            }
        }
        self.streams.entry(stream).or_default().body = Some(body);
    }

    /// Polls the handlers; true if one answered (or panicked: its stream is reset with
    /// INTERNAL_ERROR, and the connection goes on).
    pub fn poll_handlers(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut answered = false;
        // A new handler is polled once here first: most answer at once, and then never need
        // a place (an allocation) in the set, nor a way to be cancelled. One that waits joins
        // it, whose next poll registers the set's own waker for it.
        let mut fresh = std::mem::take(&mut self.fresh_handlers);
        for mut h in fresh.drain(..) {
            match Pin::new(&mut h).poll(cx) {
                Poll::Ready((stream, answer)) => {
                    answered = true;
                    self.answered(stream, answer, now);
                }
                Poll::Pending => {
                    self.cancels.insert(h.stream, h.cancellable());
                    self.handlers.push(h);
                }
            }
        }
        self.fresh_handlers = fresh;
        while let Poll::Ready(Some((stream, answer))) = self.handlers.poll_next_unpin(cx) {
            answered = true;
            self.answered(stream, answer, now);
        }
        answered
    }

    fn answered(&mut self, stream: StreamId, answer: Answer, now: Instant) {
        // Only handlers that had to wait have an entry (most answer at once).
        if !self.cancels.is_empty() {
            self.cancels.remove(&stream);
        }
        match answer {
            Answer::Response(resp) => {
                // What the handler asked for before answering (a 103 Early Hints, a push)
                // goes first: a 1xx after the final response is refused (RFC 9113 §8.1).
                while !self.internal_rx.is_empty() {
                    let Ok(cmd) = self.internal_rx.try_recv() else {
                        break;
                    };
                    self.command(cmd, now);
                }
                self.respond(stream, resp)
            }
            Answer::Panicked => {
                let _ = self.conn.reset(stream, Reason::INTERNAL_ERROR);
            }
            Answer::Cancelled => {}
        }
    }

    /// Drops the handler of `stream` if it has not answered: its stream is gone.
    fn cancel_handler(&mut self, stream: StreamId) {
        self.cancels.remove(&stream);
        self.fresh_handlers.retain(|h| h.stream != stream);
    }

    /// Handles one event of the core.
    pub fn event(&mut self, event: Event) {
        // The client pool's view of this connection (a server has no pool).
        let client = matches!(self.role, RoleState::Client { .. });
        if client && self.shared.slots.observe(&self.conn, &event) {
            self.shared.changed.notify_waiters();
        }
        #[cfg(feature = "test-hooks")]
        if let RoleState::Tap { events } = &self.role {
            let _ = events.send(event);
            return;
        }
        match event {
            Event::RequestReceived {
                stream,
                headers,
                end_stream,
            } => self.request_received(stream, headers, end_stream),
            Event::ResponseReceived {
                stream,
                headers,
                end_stream,
            } => {
                let body = self.recv_body(stream, end_stream);
                let resp = convert::response_from_h2(&headers)
                    .and_then(|b| b.body(body).map_err(|_| Error::Malformed("response")));
                if let Some(tx) = self.streams.get_mut(&stream).and_then(|e| e.resp_tx.take()) {
                    // Nobody waits any more: the response (and its body) is dropped, which
                    // resets the stream (`body_dropped`).
                    let _ = tx.send(resp);
                }
            }
            // An empty DATA frame (often the one carrying END_STREAM) has nothing for the
            // reader; padding was returned to flow control by the core.
            Event::InformationalResponseReceived { stream, headers } => {
                if let Some(f) = self
                    .streams
                    .get(&stream)
                    .and_then(|e| e.informational.as_ref())
                {
                    f.deliver(&headers);
                }
            }
            Event::DataReceived { data, .. } if data.is_empty() => {}
            Event::DataReceived { stream, data, .. } => {
                let n = data.len();
                let delivered = self
                    .streams
                    .get(&stream)
                    .and_then(|e| e.recv_tx.as_ref())
                    .is_some_and(|tx| tx.send(Ok(Frame::Data(data))).is_ok());
                if !delivered {
                    // Nobody will read it: return it to flow control at once.
                    self.conn.release_capacity(stream, n);
                }
            }
            Event::TrailersReceived { stream, headers } => {
                if let Some(tx) = self.streams.get_mut(&stream).and_then(|e| e.recv_tx.take()) {
                    let _ = tx.send(convert::fields_to_map(&headers).map(Frame::Trailers));
                }
            }
            Event::StreamEnded { stream } => {
                if let Some(e) = self.streams.get_mut(&stream) {
                    e.recv_tx = None;
                }
            }
            Event::StreamReset {
                stream,
                reason,
                remote,
            } => {
                self.cancel_handler(stream);
                if let Some(mut e) = self.streams.remove(&stream) {
                    // Refused (RST_STREAM or above a GOAWAY's last-stream-id): the peer did not
                    // process it (RFC 9113 §8.7), so an unread body may go elsewhere. Sent
                    // before the error, so it is there when the error is seen.
                    if remote && reason == Reason::REFUSED_STREAM {
                        if let (Some(back), Some(body)) = (e.give_back.take(), e.body.take()) {
                            let _ = back.send(body);
                        }
                    }
                    if let Some(tx) = e.recv_tx.take() {
                        let _ = tx.send(Err(Error::Reset(reason)));
                    }
                    if let Some(tx) = e.resp_tx.take() {
                        let _ = tx.send(Err(Error::Reset(reason)));
                    }
                }
            }
            Event::PushedStreamReceived {
                promised, headers, ..
            } => self.push_received(promised, &headers),
            Event::PingAckReceived { rtt, .. } => {
                if let Some(tx) = self.ping.take() {
                    let _ = tx.send(Ok(rtt));
                }
            }
            Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            } => {
                let err = || Error::Connection {
                    reason,
                    remote,
                    detail: detail.clone(),
                };
                for (_, mut e) in self.streams.drain() {
                    if let Some(tx) = e.recv_tx.take() {
                        let _ = tx.send(Err(err()));
                    }
                    if let Some(tx) = e.resp_tx.take() {
                        let _ = tx.send(Err(err()));
                    }
                }
                // No stream goes on: handlers still waiting are dropped.
                self.cancels.clear();
                self.fresh_handlers.clear();
                if reason != Reason::NO_ERROR {
                    self.error = Some(err());
                }
            }
            _ => {}
        }
    }

    fn push_received(&mut self, promised: StreamId, headers: &[Header]) {
        let pushes = match &self.role {
            RoleState::Client { pushes: Some(p) } => Some(p.clone()),
            _ => None,
        };
        let request = convert::request_from_h2(headers).map(|parts| Request::from_parts(parts, ()));
        if let (Some(p), Ok(request)) = (pushes, request) {
            let (tx, rx) = oneshot::channel();
            self.streams.entry(promised).or_default().resp_tx = Some(tx);
            let promise = PushPromise {
                request,
                response: PushedResponse(rx),
            };
            if p.send(promise).is_ok() {
                return;
            }
            self.streams.remove(&promised);
        }
        let _ = self.conn.reset(promised, Reason::CANCEL);
    }

    fn recv_body(&mut self, stream: StreamId, end_stream: bool) -> Body {
        if end_stream {
            return Body::empty();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.streams.entry(stream).or_default().recv_tx = Some(tx);
        Body::recv(Recv {
            rx,
            polled: false,
            flow: Some((stream, self.flow_tx.clone())),
        })
    }

    fn request_received(&mut self, stream: StreamId, headers: Vec<Header>, end_stream: bool) {
        let RoleState::Server { handler } = &self.role else {
            return;
        };
        let handler = handler.clone();
        let body = match self.upgrade_body.take() {
            Some(b) if stream.value() == 1 => Body::from(b),
            _ => self.recv_body(stream, end_stream),
        };
        let Ok(mut parts) = convert::request_from_h2(&headers) else {
            let _ = self.conn.reset(stream, Reason::PROTOCOL_ERROR);
            return;
        };
        let handle = StreamHandle::new(stream, self.internal_tx.clone());
        parts.extensions.insert(handle);
        let req = Request::from_parts(parts, body);
        self.fresh_handlers
            .push(Responding::new(stream, &handler, req));
    }

    /// Pulls body chunks for streams that have send capacity; a body is only read as fast as
    /// flow control lets its bytes go out.
    pub fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let conn = &mut self.conn;
        for (&id, entry) in self.streams.iter_mut() {
            let Some(body) = entry.body.as_mut() else {
                continue;
            };
            while conn.send_capacity(id) > 0 {
                let frame = body.poll_send(cx);
                if frame.is_ready() {
                    // Part of the body is spent: it can no longer be sent elsewhere.
                    entry.give_back = None;
                    progress = true;
                }
                let done = match frame {
                    Poll::Pending => break,
                    Poll::Ready(Some(Ok(Frame::Data(d)))) if d.is_empty() => continue,
                    Poll::Ready(Some(Ok(Frame::Data(d)))) => conn.send_data(id, d, false).is_err(),
                    Poll::Ready(Some(Ok(Frame::Trailers(t)))) => {
                        let _ = conn.send_trailers(id, convert::trailers_to_h2(&t));
                        true
                    }
                    Poll::Ready(None) => {
                        let _ = conn.send_data(id, Bytes::new(), true);
                        true
                    }
                    // Aborted (with its reason) or failed (INTERNAL_ERROR): RFC 9113 §5.4.2.
                    Poll::Ready(Some(Err(reason))) => {
                        let _ = conn.reset(id, reason);
                        true
                    }
                };
                if done {
                    entry.body = None;
                    break;
                }
            }
        }
        progress
    }

    fn update_slots(&self) {
        if self.shared.slots.update(&self.conn) {
            self.shared.changed.notify_waiters();
        }
    }

    /// After each round: forgets finished streams and publishes the counters.
    pub fn cleanup(&mut self) {
        self.streams.retain(|_, e| !e.done());
        self.shared
            .header_bytes_sent
            .store(self.conn.stats().header_bytes_sent, Ordering::Relaxed);
        self.update_slots();
    }

    /// The task ends: handles waiting for this connection learn it is gone; its counters are
    /// final.
    pub fn finish(&mut self) {
        self.shared
            .header_bytes_sent
            .store(self.conn.stats().header_bytes_sent, Ordering::Relaxed);
        self.shared.slots.finish();
        self.shared.finished.store(true, Ordering::Release);
        self.shared.changed.notify_waiters();
    }
}
