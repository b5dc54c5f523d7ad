//! The task that owns one HTTP/2 connection: it moves bytes between the socket and the
//! `h2core::Connection`, turns events into `http` messages and body chunks, and commands from the
//! user's handles into calls on the core. It has no HTTP/2 rule of its own, and owns exactly one
//! timer: the core's `poll_timeout`.

use crate::body::{Body, Frame, Recv};
use crate::convert;
use crate::rt::{Runtime, Sleep};
use crate::Error;
use bytes::{Bytes, BytesMut};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2core::{Connection, Event, Header, Reason, StreamId};
use http::{Request, Response};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::IoSlice;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

/// A handler's answer to the request on `stream`, polled inside the connection task, in the
/// stream's tracing span; `Err` if the handler panicked.
struct Responding {
    stream: StreamId,
    answer: Pin<Box<dyn Future<Output = Response<Body>> + Send>>,
    span: tracing::Span,
}

impl Future for Responding {
    type Output = (StreamId, std::thread::Result<Response<Body>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _entered = this.span.enter();
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.answer.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(resp)) => Poll::Ready((this.stream, Ok(resp))),
            Err(panic) => Poll::Ready((this.stream, Err(panic))),
        }
    }
}

/// A boxed request handler.
pub(crate) type Handler = Arc<
    dyn Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;

/// What user handles ask the connection task to do.
pub(crate) enum Command {
    Request {
        head: Vec<Header>,
        body: Body,
        tx: oneshot::Sender<Result<Response<Body>, Error>>,
        /// Set by the client pool: the request holds a slot of `Shared::reserved`, and its body
        /// comes back here if the stream is refused before any of it was read (RFC 9113 §8.7),
        /// so it can be retried elsewhere.
        pool: Option<oneshot::Sender<Body>>,
    },
    Informational {
        stream: StreamId,
        head: Vec<Header>,
    },
    Push {
        parent: StreamId,
        request: Vec<Header>,
        head: Vec<Header>,
        body: Body,
        tx: oneshot::Sender<Result<(), Error>>,
    },
    Release {
        stream: StreamId,
        n: usize,
    },
    BodyDropped {
        stream: StreamId,
        unread: usize,
    },
    Shutdown,
    Ping {
        tx: oneshot::Sender<Result<Duration, Error>>,
    },
    /// Runs a closure on the core inside the task (the scenario corpus drives the core this
    /// way through the adapter).
    Core(CoreCall),
}

/// A call on the core, run inside the connection task.
pub type CoreCall = Box<dyn FnOnce(&mut Connection, std::time::Instant) + Send>;

/// State the user's handles read without asking the task.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Our active streams.
    pub active: AtomicU32,
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS (u32::MAX when unlimited).
    pub max_concurrent: AtomicU32,
    /// No new streams may start here (GOAWAY either way, or the connection ended).
    pub closing: AtomicBool,
    /// Requests a client pool assigned here that the task has not started yet.
    pub reserved: AtomicU32,
    /// The peer's first SETTINGS arrived (its limits are known), or the connection ended.
    pub ready: AtomicBool,
    /// Woken when `ready` is set.
    pub ready_notify: tokio::sync::Notify,
    /// HEADERS + CONTINUATION payload bytes sent so far (`h2core::Stats::header_bytes_sent`).
    pub header_bytes_sent: AtomicU64,
    /// The task has ended: the counters above are final.
    pub finished: AtomicBool,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        let s = Shared::default();
        s.max_concurrent.store(u32::MAX, Ordering::Relaxed);
        Arc::new(s)
    }

    /// True when a new request would start at once here.
    pub fn has_room(&self) -> bool {
        !self.closing.load(Ordering::Relaxed)
            && self.active.load(Ordering::Relaxed) + self.reserved.load(Ordering::Relaxed)
                < self.max_concurrent.load(Ordering::Relaxed)
    }

    /// Takes one of the streams the peer allows, if one is free; the task gives it back when
    /// it starts the request (`Command::Request` with `pool`).
    pub fn try_reserve(&self) -> bool {
        self.reserved
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| {
                let room = !self.closing.load(Ordering::Relaxed)
                    && self.active.load(Ordering::Acquire).saturating_add(r)
                        < self.max_concurrent.load(Ordering::Relaxed);
                room.then_some(r + 1)
            })
            .is_ok()
    }

    fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
        self.ready_notify.notify_waiters();
    }
}

/// A pushed response promised by the server (client side, RFC 9113 §8.4).
pub struct PushPromise {
    /// The promised request.
    pub request: Request<()>,
    /// The pushed response, when it arrives.
    pub response: oneshot::Receiver<Result<Response<Body>, Error>>,
}

pub(crate) enum RoleState {
    Server {
        handler: Handler,
    },
    Client {
        pushes: Option<mpsc::UnboundedSender<PushPromise>>,
    },
    /// Every core event goes to this channel as it is (the scenario corpus through the adapter).
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
}

impl Entry {
    fn done(&self) -> bool {
        self.recv_tx.is_none() && self.resp_tx.is_none() && self.body.is_none()
    }
}

/// One connection's task. Await it (or spawn it); it ends when the connection is closed.
pub struct Driver<IO, R: Runtime> {
    conn: Connection,
    io: IO,
    read_buf: BytesMut,
    write_queue: VecDeque<Bytes>,
    out: Vec<Bytes>,
    user_rx: mpsc::UnboundedReceiver<Command>,
    user_open: bool,
    internal_rx: mpsc::UnboundedReceiver<Command>,
    internal_tx: mpsc::UnboundedSender<Command>,
    streams: HashMap<StreamId, Entry>,
    role: RoleState,
    sleep: R::Sleep,
    read_closed: bool,
    shared: Arc<Shared>,
    ping: Option<oneshot::Sender<Result<Duration, Error>>>,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    error: Option<Error>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    /// Set once the core is closed while bytes are still unwritten.
    closing_deadline: Option<Instant>,
    /// The handlers answering requests on this connection, polled inside this task: a
    /// response needs no task spawn nor channel hop, and the responses to a batch of requests
    /// go out in the write that follows it.
    handlers: FuturesUnordered<Responding>,
    /// Handlers for requests of this round, not polled yet (see `poll_handlers`).
    fresh_handlers: Vec<Responding>,
    /// Where content-length values are written (see `content_length`).
    digits: BytesMut,
    /// The core has ended (`ConnectionTerminated`), even if its last frames (a GOAWAY) are
    /// not handed out yet: it sets no more deadlines, so the close grace is ours to keep.
    terminated: bool,
    /// Set once everything is written and our side is shut: lingering until then (`LINGER`).
    linger_deadline: Option<Instant>,
    /// `read_buf` holds bytes read before the task existed (the sniffed preface and whatever
    /// came with it, or what followed a 101), not yet fed to the core.
    unparsed: bool,
}

const READ_CHUNK: usize = 16 * 1024;

/// How long the last bytes of a closed connection may take to be written.
const CLOSE_FLUSH_GRACE: Duration = Duration::from_secs(5);

/// After our last bytes and our FIN, how long we keep reading (and dropping) what the peer
/// still sends while waiting for it to close too (Go's server waits 1 s after a GOAWAY for an
/// error, nginx's `lingering_close`): closing a socket with unread input makes the kernel
/// answer with a reset, which discards our last bytes, the GOAWAY saying why, before they
/// reach a peer that was still sending (a flood).
const LINGER: Duration = Duration::from_secs(2);

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Driver<IO, R> {
    pub(crate) fn new(
        conn: Connection,
        io: IO,
        read_buf: BytesMut,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Driver<IO, R> {
        let unparsed = !read_buf.is_empty();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        Driver {
            conn,
            io,
            read_buf,
            write_queue: VecDeque::new(),
            out: Vec::new(),
            user_rx,
            user_open: true,
            internal_rx,
            internal_tx,
            streams: HashMap::new(),
            role,
            sleep: R::sleep_until(R::now() + Duration::from_secs(3600)),
            read_closed: false,
            shared,
            ping: None,
            shutdown: None,
            error: None,
            upgrade_body: None,
            closing_deadline: None,
            handlers: FuturesUnordered::new(),
            fresh_handlers: Vec::new(),
            digits: BytesMut::new(),
            terminated: false,
            linger_deadline: None,
            unparsed,
        }
    }

    /// Stream 1's request body, received over HTTP/1.1 before an upgrade.
    pub(crate) fn upgrade_body(&mut self, body: Bytes) {
        self.upgrade_body = Some(body);
    }

    /// The response on `stream` (stream 1 after an upgrade) goes to `tx`.
    pub(crate) fn expect_response(
        &mut self,
        stream: StreamId,
        tx: oneshot::Sender<Result<Response<Body>, Error>>,
    ) {
        self.streams.entry(stream).or_default().resp_tx = Some(tx);
    }

    /// Start a graceful shutdown when `signal` completes.
    pub(crate) fn shutdown_on(&mut self, signal: impl Future<Output = ()> + Send + 'static) {
        self.shutdown = Some(Box::pin(signal));
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Request {
                head,
                body,
                tx,
                pool,
            } => {
                let end_stream = body.is_end_stream();
                let reserved = pool.is_some();
                match self.conn.send_request(head, end_stream) {
                    Ok(id) => {
                        let entry = self.streams.entry(id).or_default();
                        entry.resp_tx = Some(tx);
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
                    // The stream now counts in `active` (or failed): release the reservation.
                    let (active, _) = self.conn.active_streams();
                    self.shared.active.store(active, Ordering::Release);
                    self.shared.reserved.fetch_sub(1, Ordering::AcqRel);
                }
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
            Command::Release { stream, n } => self.conn.release_capacity(stream, n),
            Command::BodyDropped { stream, unread } => {
                self.conn.release_capacity(stream, unread);
                if let Some(e) = self.streams.get_mut(&stream) {
                    e.recv_tx = None;
                }
            }
            Command::Shutdown => {
                let _ = self.conn.shutdown(R::now());
            }
            Command::Core(call) => call(&mut self.conn, R::now()),
            Command::Ping { tx } => match self.conn.ping(*b"h2-async", R::now()) {
                Ok(()) => self.ping = Some(tx),
                Err(e) => {
                    let _ = tx.send(Err(Error::User(e)));
                }
            },
        }
    }

    /// Sends the handler's response on `stream`: its head now, its body as flow control allows.
    fn respond(&mut self, stream: StreamId, resp: Response<Body>) {
        let mut head = convert::response_to_h2(&resp);
        let mut body = resp.into_body();
        let end_stream = body.is_end_stream();
        if let Some(n) = body.size_hint() {
            let has_length = head.iter().any(|h| h.name == "content-length");
            let status = head.first().map(|h| h.value.clone()).unwrap_or_default();
            let bodiless = status == "204" || status == "304";
            if !has_length && !bodiless {
                let length = self.content_length(n);
                head.push(Header::new("content-length", length));
            }
        }
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

    /// `n` as a content-length value, cut from a shared buffer: one allocation serves many
    /// responses instead of a String each.
    fn content_length(&mut self, n: u64) -> Bytes {
        use std::fmt::Write;
        if self.digits.capacity() - self.digits.len() < 20 {
            self.digits.reserve(512);
        }
        let _ = write!(self.digits, "{n}");
        self.digits.split().freeze()
    }

    /// Polls the handlers; true if one answered (or panicked: its stream is reset with
    /// INTERNAL_ERROR, and the connection goes on).
    fn poll_handlers(&mut self, cx: &mut Context<'_>) -> bool {
        let mut answered = false;
        // A new handler is polled once here first: most answer at once, and then never need
        // a place (an allocation) in the set. One that waits joins it, whose next poll
        // registers the set's own waker for it.
        let mut fresh = std::mem::take(&mut self.fresh_handlers);
        for mut h in fresh.drain(..) {
            match Pin::new(&mut h).poll(cx) {
                Poll::Ready((stream, resp)) => {
                    answered = true;
                    self.answered(stream, resp);
                }
                Poll::Pending => self.handlers.push(h),
            }
        }
        self.fresh_handlers = fresh;
        while let Poll::Ready(Some((stream, resp))) = self.handlers.poll_next_unpin(cx) {
            answered = true;
            self.answered(stream, resp);
        }
        answered
    }

    fn answered(&mut self, stream: StreamId, resp: std::thread::Result<Response<Body>>) {
        match resp {
            Ok(resp) => self.respond(stream, resp),
            Err(_) => {
                let _ = self.conn.reset(stream, Reason::INTERNAL_ERROR);
            }
        }
    }

    fn event(&mut self, event: Event) {
        if let Event::ConnectionTerminated { reason, remote, .. } = &event {
            self.terminated = true;
            // Ended by us in error with nothing left to send: the core wrote no GOAWAY and
            // dropped its output because the peer does not read (`Config::write_timeout`).
            // What we still hold cannot reach the peer either: drop it and close now.
            if !*remote && *reason != Reason::NO_ERROR && self.conn.is_closed() {
                self.write_queue.clear();
            }
        }
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
                    let _ = tx.send(resp);
                }
            }
            // An empty DATA frame (often the one carrying END_STREAM) has nothing for the
            // reader; padding was returned to flow control by the core.
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
            } => {
                let pushes = match &self.role {
                    RoleState::Client { pushes: Some(p) } => Some(p.clone()),
                    _ => None,
                };
                let request =
                    convert::request_from_h2(&headers).map(|parts| Request::from_parts(parts, ()));
                match (pushes, request) {
                    (Some(p), Ok(request)) => {
                        let (tx, rx) = oneshot::channel();
                        self.streams.entry(promised).or_default().resp_tx = Some(tx);
                        if p.send(PushPromise {
                            request,
                            response: rx,
                        })
                        .is_err()
                        {
                            self.streams.remove(&promised);
                            let _ = self.conn.reset(promised, Reason::CANCEL);
                        }
                    }
                    _ => {
                        let _ = self.conn.reset(promised, Reason::CANCEL);
                    }
                }
            }
            Event::PingAckReceived { rtt, .. } => {
                if let Some(tx) = self.ping.take() {
                    let _ = tx.send(Ok(rtt));
                }
            }
            Event::GoAwayReceived { .. } => self.shared.closing.store(true, Ordering::Relaxed),
            Event::RemoteSettingsChanged { .. } => {
                let max = self
                    .conn
                    .remote_settings()
                    .max_concurrent_streams
                    .unwrap_or(u32::MAX);
                self.shared.max_concurrent.store(max, Ordering::Relaxed);
                self.shared.set_ready();
            }
            Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            } => {
                self.shared.closing.store(true, Ordering::Relaxed);
                self.shared.set_ready();
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
                if reason != Reason::NO_ERROR {
                    self.error = Some(err());
                }
            }
            _ => {}
        }
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
            release: Some((stream, self.internal_tx.clone())),
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
        let handle = crate::server::StreamHandle::new(stream, self.internal_tx.clone());
        parts.extensions.insert(handle);
        let req = Request::from_parts(parts, body);
        self.fresh_handlers.push(Responding {
            stream,
            answer: handler(req),
            span: tracing::debug_span!("stream", id = stream.value()),
        });
    }

    /// Pulls body chunks for streams that have send capacity; a body is only read as fast as
    /// flow control lets its bytes go out.
    fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let conn = &mut self.conn;
        for (&id, entry) in self.streams.iter_mut() {
            let Some(body) = entry.body.as_mut() else {
                continue;
            };
            while conn.send_capacity(id) > 0 {
                let frame = body.poll_frame(cx);
                if frame.is_ready() {
                    // Part of the body is spent: it can no longer be sent elsewhere.
                    entry.give_back = None;
                }
                match frame {
                    Poll::Pending => break,
                    Poll::Ready(Some(Ok(Frame::Data(d)))) => {
                        progress = true;
                        if d.is_empty() {
                            continue;
                        }
                        if conn.send_data(id, d, false).is_err() {
                            entry.body = None;
                            break;
                        }
                    }
                    Poll::Ready(Some(Ok(Frame::Trailers(t)))) => {
                        progress = true;
                        let _ = conn.send_trailers(id, convert::trailers_to_h2(&t));
                        entry.body = None;
                        break;
                    }
                    Poll::Ready(None) => {
                        progress = true;
                        let _ = conn.send_data(id, Bytes::new(), true);
                        entry.body = None;
                        break;
                    }
                    Poll::Ready(Some(Err(_))) => {
                        progress = true;
                        let _ = conn.reset(id, Reason::INTERNAL_ERROR);
                        entry.body = None;
                        break;
                    }
                }
            }
        }
        progress
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        // Into the buffer's spare capacity as it is: zeroing 16 KiB before every read cost
        // more than the HPACK decoding of the requests it carries.
        self.read_buf.reserve(READ_CHUNK);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf)
    }

    /// Reads and drops what the peer still sends after we closed; Ready once it closed its
    /// side too (or the transport failed).
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..64 {
            self.read_buf.clear();
            match self.poll_read(cx) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    self.read_closed = true;
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
        // A peer sending without pause: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Writes what the core has queued; returns Ready(Ok(true)) if anything was written.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<bool>> {
        let mut wrote = false;
        loop {
            if self.write_queue.is_empty() {
                self.out.clear();
                if self.conn.poll_transmit(R::now(), &mut self.out) == 0 {
                    return Poll::Ready(Ok(wrote));
                }
                self.write_queue.extend(self.out.drain(..));
            }
            let slices: Vec<IoSlice<'_>> = self
                .write_queue
                .iter()
                .take(64)
                .map(|b| IoSlice::new(b))
                .collect();
            let n = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return if wrote {
                        Poll::Ready(Ok(true))
                    } else {
                        Poll::Pending
                    };
                }
            };
            wrote = true;
            h2_http::consume_written(&mut self.write_queue, n);
        }
    }

    fn cleanup(&mut self) {
        self.streams.retain(|_, e| !e.done());
        self.shared
            .header_bytes_sent
            .store(self.conn.stats().header_bytes_sent, Ordering::Relaxed);
        let (active, _) = self.conn.active_streams();
        self.shared.active.store(active, Ordering::Relaxed);
        if !self.conn.can_open_stream()
            && self.conn.shutdown_state() != h2core::ShutdownState::Running
        {
            self.shared.closing.store(true, Ordering::Relaxed);
        }
    }
}

impl<IO, R: Runtime> Drop for Driver<IO, R> {
    fn drop(&mut self) {
        // Handles waiting for this connection learn it is gone; its counters are final.
        self.shared
            .header_bytes_sent
            .store(self.conn.stats().header_bytes_sent, Ordering::Relaxed);
        self.shared.closing.store(true, Ordering::Relaxed);
        self.shared.finished.store(true, Ordering::Release);
        self.shared.set_ready();
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin, R: Runtime> Future for Driver<IO, R> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        for _ in 0..64 {
            let mut progress = false;
            if let Some(signal) = this.shutdown.as_mut() {
                if signal.as_mut().poll(cx).is_ready() {
                    this.shutdown = None;
                    let _ = this.conn.shutdown(R::now());
                    progress = true;
                }
            }
            while this.user_open {
                match this.user_rx.poll_recv(cx) {
                    Poll::Ready(Some(cmd)) => {
                        this.command(cmd);
                        progress = true;
                    }
                    Poll::Ready(None) => {
                        // Every user handle is gone: close gracefully once streams finish.
                        this.user_open = false;
                        if matches!(this.role, RoleState::Client { .. }) {
                            let _ = this.conn.shutdown(R::now());
                        }
                        progress = true;
                    }
                    Poll::Pending => break,
                }
            }
            while let Poll::Ready(Some(cmd)) = this.internal_rx.poll_recv(cx) {
                this.command(cmd);
                progress = true;
            }
            progress |= this.poll_bodies(cx);
            if this.unparsed {
                // Fed here, as one read, rather than when the task was made: the replies they
                // cause must be handed out (`poll_transmit` below) before the next read queues
                // more, or they would count as unwritten against the flood limits.
                this.unparsed = false;
                let _ = this.conn.handle_input(R::now(), &mut this.read_buf);
                progress = true;
            } else if this.conn.wants_read() && !this.read_closed {
                match this.poll_read(cx) {
                    Poll::Ready(Ok(0)) => {
                        this.read_closed = true;
                        this.conn.handle_eof(R::now());
                        progress = true;
                    }
                    Poll::Ready(Ok(_)) => {
                        let _ = this.conn.handle_input(R::now(), &mut this.read_buf);
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => {
                        this.read_closed = true;
                        this.conn.handle_eof(R::now());
                        this.error.get_or_insert(Error::Io(e));
                        progress = true;
                    }
                    Poll::Pending => {}
                }
            }
            while let Some(e) = this.conn.poll_event() {
                this.event(e);
                progress = true;
            }
            if this.poll_handlers(cx) {
                // Their bodies start now, so that what is ready goes out in this write.
                this.poll_bodies(cx);
                progress = true;
            }
            match this.poll_write(cx) {
                Poll::Ready(Ok(w)) => progress |= w,
                Poll::Ready(Err(e)) => {
                    // The peer stopped reading: nothing more can be delivered.
                    this.conn.handle_eof(R::now());
                    while let Some(ev) = this.conn.poll_event() {
                        this.event(ev);
                    }
                    return Poll::Ready(Err(this.error.take().unwrap_or(Error::Io(e))));
                }
                Poll::Pending => {}
            }
            this.cleanup();
            if this.conn.is_closed() && this.write_queue.is_empty() {
                let deadline = match this.linger_deadline {
                    Some(d) => d,
                    None => {
                        let _ = Pin::new(&mut this.io).poll_shutdown(cx);
                        let d = R::now() + LINGER;
                        this.linger_deadline = Some(d);
                        d
                    }
                };
                // Linger: our FIN is out after the last bytes; drop what the peer still sends
                // until it closes too, so that no reset overtakes them.
                if this.read_closed || this.poll_discard(cx).is_ready() {
                    return Poll::Ready(this.error.take().map_or(Ok(()), Err));
                }
                if this.sleep.deadline() != deadline {
                    this.sleep.reset(deadline);
                }
                if Pin::new(&mut this.sleep).poll(cx).is_ready() {
                    return Poll::Ready(this.error.take().map_or(Ok(()), Err));
                }
                return Poll::Pending;
            }
            if this.conn.is_closed() || this.terminated {
                // The core is done but our last bytes (its GOAWAY) are not all written, or not
                // even handed out because the previous batch is stuck: give a peer that does
                // not read a short grace, then drop them and close.
                let deadline = *this
                    .closing_deadline
                    .get_or_insert_with(|| R::now() + CLOSE_FLUSH_GRACE);
                if this.sleep.deadline() != deadline {
                    this.sleep.reset(deadline);
                }
                if Pin::new(&mut this.sleep).poll(cx).is_ready() {
                    this.write_queue.clear();
                    progress = true;
                }
            } else if let Some(deadline) = this.conn.poll_timeout() {
                if this.sleep.deadline() != deadline {
                    this.sleep.reset(deadline);
                }
                if Pin::new(&mut this.sleep).poll(cx).is_ready() {
                    this.conn.handle_timeout(R::now());
                    progress = true;
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Plenty done in one go: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
