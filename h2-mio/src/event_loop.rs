//! The event loop: one `mio::Poll` over many connections, a slab of connections by token, one
//! timer heap fed by each connection's deadline (the core's `poll_timeout()`), and a channel
//! (with a `mio::Waker`) through which handler threads and body senders reach the loop.
//!
//! It has no HTTP/2 rule of its own: bytes go into `Connection::handle_input`, come out of
//! `poll_transmit`, and events become `http` messages.
//!
//! With TLS, a connection's `rustls::Connection` sits between the socket and the buffers: reads
//! go socket → `read_tls` → `process_new_packets` → `reader()` → `read_buf`; the write queue's
//! `Bytes` go through `writer()` (vectored, encrypted into rustls's bounded buffer) and out
//! with `write_tls`. rustls's buffer is limited (64 KiB), so backpressure still reaches the core.

use crate::body::{Body, Chan, Inner, Item};
use crate::http1::H1;
use crate::pool::Pool;
use crate::{Error, Trailers, MAX_REQUEST_BODY};
use bytes::{Bytes, BytesMut};
use h2core::preface::{sniff, Sniff};
use h2core::{Config, Connection, Event, Header, Reason, StreamId};
use http::{Request, Response};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use h2_http::tls::ALPN_H2;

/// A transport the loop can drive: a non-blocking socket registered with `mio`.
pub trait Io: Read + Write + mio::event::Source + Send {
    /// Closes our sending side (FIN) once everything is written.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Io for mio::net::TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Io for mio::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// Where the loop takes `now` from (tests swap in a clock they advance).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> Clock {
    Arc::new(Instant::now)
}

pub(crate) type Handler = Arc<dyn Fn(Request<Bytes>) -> Response<Body> + Send + Sync>;

/// A call on the core, run inside the loop.
pub type CoreCall = Box<dyn FnOnce(&mut Connection, Instant) + Send>;

/// A reply to a client request.
pub(crate) type ReplyTx = mpsc::Sender<Result<Response<Bytes>, Error>>;

/// A connection's TLS session (RFC 8446), server or client side.
pub(crate) struct Tls {
    session: rustls::Connection,
    /// Our close_notify is queued, or the session failed (its alert is queued instead): either
    /// way nothing more is encrypted.
    closed: bool,
}

impl Tls {
    pub(crate) fn new(session: rustls::Connection) -> Tls {
        Tls {
            session,
            closed: false,
        }
    }
}

/// Names one connection; `id` tells a reused slab slot from the connection a message meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    slot: usize,
    id: u64,
}

/// What reaches the loop from other threads.
pub(crate) enum Msg {
    Respond {
        key: Key,
        stream: StreamId,
        response: Response<Body>,
    },
    Push {
        key: Key,
        parent: StreamId,
        request: Vec<Header>,
        response: Response<Body>,
        reply: mpsc::Sender<Result<(), Error>>,
    },
    /// A streamed body has something new.
    Body { key: Key },
    /// Client: start a request on the (only) connection.
    Request {
        head: Vec<Header>,
        body: Bytes,
        reply: ReplyTx,
        /// The pool reserved a slot for it, released once the stream is open (or failed).
        reserved: bool,
    },
    /// Client: the response on `stream` (stream 1 after an upgrade) goes to `reply`.
    Expect { stream: StreamId, reply: ReplyTx },
    /// Graceful shutdown of every connection (GOAWAY, RFC 9113 §6.8).
    Shutdown,
}

/// A handle other threads use to reach the loop.
#[derive(Clone)]
pub(crate) struct Remote {
    tx: mpsc::Sender<Msg>,
    waker: Arc<Waker>,
}

impl Remote {
    pub(crate) fn send(&self, msg: Msg) -> Result<(), Error> {
        self.tx.send(msg).map_err(|_| Error::ConnectionGone)?;
        self.waker.wake().map_err(Error::Io)
    }
}

pub(crate) enum Role {
    Server {
        handler: Handler,
        pool: Pool,
    },
    /// One connection of a client's pool: its state is published for the pool.
    Client {
        shared: Arc<crate::client::Shared>,
    },
    /// Every core event goes out raw (the scenario corpus through the adapter).
    Tap {
        events: mpsc::Sender<Event>,
    },
}

pub(crate) enum Proto {
    /// The first bytes decide: the HTTP/2 preface or HTTP/1.1.
    Sniff,
    /// Server TLS handshake in progress; its ALPN decides (RFC 9113 §3.2): `h2` or HTTP/1.1.
    Handshake,
    H1(Box<H1>),
    H2(Box<H2>),
    Gone,
}

pub(crate) struct H2 {
    conn: Connection,
    streams: HashMap<StreamId, Stream>,
    /// The body of an `Upgrade: h2c` request, read over HTTP/1.1, for stream 1.
    upgrade_body: Option<Bytes>,
    /// `read_buf` holds bytes not yet fed to the core (the sniffed preface, what followed 101).
    unparsed: bool,
    out: Vec<Bytes>,
}

impl H2 {
    pub(crate) fn new(conn: Connection, upgrade_body: Option<Bytes>, unparsed: bool) -> H2 {
        H2 {
            conn,
            streams: HashMap::new(),
            upgrade_body,
            unparsed,
            out: Vec::new(),
        }
    }
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
}

impl Stream {
    fn done(&self) -> bool {
        self.head.is_none() && self.out.is_none() && self.reply.is_none()
    }
}

pub(crate) enum Out {
    Full(Bytes),
    Chan(Arc<Chan>),
}

impl Out {
    pub(crate) fn from_body(body: Body) -> Out {
        match body.inner {
            Inner::Full(b) => Out::Full(b),
            Inner::Chan(c) => Out::Chan(c),
        }
    }

    pub(crate) fn abandon(self) {
        if let Out::Chan(c) = self {
            c.close();
        }
    }
}

pub(crate) struct Conn {
    id: u64,
    io: Box<dyn Io>,
    /// Present for a TLS connection: plaintext goes through it.
    tls: Option<Tls>,
    pub(crate) read_buf: BytesMut,
    write_q: VecDeque<Bytes>,
    /// Bytes in `write_q`.
    pub(crate) queued: usize,
    pub(crate) read_closed: bool,
    /// HTTP/1.1: close once everything queued is written.
    pub(crate) closing: bool,
    proto: Proto,
    accepted: Instant,
    /// The deadline this connection has in the heap, if any.
    timer: Option<Instant>,
    /// Set once the connection is over but bytes remain: a short grace, then drop them.
    flush_deadline: Option<Instant>,
    /// Set once our FIN is out: read and drop until the peer closes too, at most until then.
    linger_deadline: Option<Instant>,
    writable: bool,
    done: bool,
}

/// How long the last bytes of a closed connection may take to be written.
const CLOSE_FLUSH_GRACE: Duration = Duration::from_secs(5);

/// After our FIN, how long we keep reading (and dropping) what the peer still sends: closing
/// with unread input makes the kernel answer with a reset that can discard our last bytes
/// (the GOAWAY saying why) before the peer reads them.
const LINGER: Duration = Duration::from_secs(2);

const READ_CHUNK: usize = 64 * 1024;

/// A streamed HTTP/1.1 body is pulled only while less than this is queued for the socket.
pub(crate) const WRITE_HIGH_WATER: usize = 256 * 1024;

impl Conn {
    pub(crate) fn push(&mut self, b: Bytes) {
        if !b.is_empty() {
            self.queued += b.len();
            self.write_q.push_back(b);
        }
    }

    /// One read into `read_buf`; true if bytes or EOF arrived.
    pub(crate) fn read_some(&mut self, scratch: &mut [u8]) -> bool {
        if self.read_closed {
            return false;
        }
        if self.tls.is_some() {
            return self.read_tls(scratch);
        }
        loop {
            match self.io.read(scratch) {
                Ok(0) => {
                    self.read_closed = true;
                    return true;
                }
                Ok(n) => {
                    self.read_buf.extend_from_slice(&scratch[..n]);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => {
                    tracing::debug!("read: {e}");
                    self.read_closed = true;
                    return true;
                }
            }
        }
    }

    /// One read of plaintext into `read_buf` through TLS; true if bytes or EOF arrived, or the
    /// handshake moved on (it may have output to flush).
    fn read_tls(&mut self, scratch: &mut [u8]) -> bool {
        let Some(tls) = self.tls.as_mut() else {
            return false;
        };
        let mut progress = false;
        // Bounded: a burst larger than this comes back at the next step (the caller loops
        // while there is progress).
        for _ in 0..16 {
            // Plaintext already decrypted first: `read_tls` refuses to read while it is held.
            match tls.session.reader().read(scratch) {
                Ok(0) => {
                    // close_notify (RFC 8446 §6.1): a clean end of the stream.
                    self.read_closed = true;
                    return true;
                }
                Ok(n) => {
                    self.read_buf.extend_from_slice(&scratch[..n]);
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    // TCP closed without close_notify (possibly truncated), or a failed session.
                    tracing::debug!("tls read: {e}");
                    self.read_closed = true;
                    return true;
                }
            }
            match tls.session.read_tls(&mut self.io) {
                Ok(_) => {
                    // Ok(0) is EOF: the reader then tells a clean close from a truncation.
                    progress = true;
                    if let Err(e) = tls.session.process_new_packets() {
                        // rustls queued the alert that tells the peer why; it goes out with
                        // the next flush, and nothing more is read.
                        tracing::debug!("tls: {e}");
                        tls.closed = true;
                        self.read_closed = true;
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return progress,
                Err(e) => {
                    tracing::debug!("read: {e}");
                    self.read_closed = true;
                    return true;
                }
            }
        }
        progress
    }

    /// True while bytes wait to be written: queued plaintext, or TLS records rustls holds.
    pub(crate) fn pending_out(&self) -> bool {
        !self.write_q.is_empty() || self.tls.as_ref().is_some_and(|t| t.session.wants_write())
    }

    /// Queues TLS close_notify (RFC 8446 §6.1) once our side is done, so the peer can tell the
    /// end from a truncation.
    fn close_tls(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            if !tls.closed {
                tls.closed = true;
                tls.session.send_close_notify();
            }
        }
    }

    /// Writes what is queued; Err when the peer can take nothing more.
    fn flush(&mut self) -> io::Result<bool> {
        if self.tls.is_some() {
            return self.flush_tls();
        }
        let mut wrote = false;
        while !self.write_q.is_empty() {
            let slices: Vec<IoSlice<'_>> = self
                .write_q
                .iter()
                .take(64)
                .map(|b| IoSlice::new(b))
                .collect();
            let n = match self.io.write_vectored(&slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            wrote = true;
            self.queued -= n;
            h2_http::consume_written(&mut self.write_q, n);
        }
        Ok(wrote)
    }

    /// [`Conn::flush`] through TLS: the queue is encrypted into rustls's bounded buffer (the one
    /// copy TLS needs anyway), which goes out with vectored writes.
    fn flush_tls(&mut self) -> io::Result<bool> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(false);
        };
        let mut wrote = false;
        // Bounded: each round either moves bytes or stops; 64 rounds is > 4 MiB.
        for _ in 0..64 {
            if !tls.closed && !tls.session.is_handshaking() {
                while !self.write_q.is_empty() {
                    let slices: Vec<IoSlice<'_>> = self
                        .write_q
                        .iter()
                        .take(64)
                        .map(|b| IoSlice::new(b))
                        .collect();
                    // Ok(0): rustls's buffer is full until `write_tls` drains it.
                    let n = tls.session.writer().write_vectored(&slices)?;
                    if n == 0 {
                        break;
                    }
                    self.queued -= n;
                    h2_http::consume_written(&mut self.write_q, n);
                }
            }
            if !tls.session.wants_write() {
                break;
            }
            match tls.session.write_tls(&mut self.io) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => wrote = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(wrote)
    }

    fn deadline(&self, config: &Config) -> Option<Instant> {
        if let Some(d) = self.linger_deadline.or(self.flush_deadline) {
            return Some(d);
        }
        match &self.proto {
            // The TLS handshake counts against the same deadline as the preface.
            Proto::Sniff | Proto::Handshake => Some(self.accepted + config.handshake_timeout),
            Proto::H2(h2) => h2.conn.poll_timeout(),
            Proto::H1(_) | Proto::Gone => None,
        }
    }
}

/// What a connection's step needs from the loop.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) key: Key,
    pub(crate) remote: &'a Remote,
    pub(crate) role: &'a Role,
    pub(crate) config: &'a Config,
}

const WAKER: Token = Token(usize::MAX);
const LISTENER: Token = Token(usize::MAX - 1);

/// The loop and everything it owns.
pub struct EventLoop {
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    /// Set for a TLS server: every accepted connection starts a handshake with it.
    tls: Option<Arc<rustls::ServerConfig>>,
    conns: Slab<Conn>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    rx: mpsc::Receiver<Msg>,
    remote: Remote,
    role: Role,
    config: Config,
    clock: Clock,
    next_id: u64,
    dirty: Vec<usize>,
    scratch: Box<[u8]>,
    stopping: bool,
}

impl EventLoop {
    pub(crate) fn new(role: Role, config: Config, clock: Clock) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = mpsc::channel();
        Ok(EventLoop {
            poll,
            events: Events::with_capacity(1024),
            listener: None,
            tls: None,
            conns: Slab::new(),
            timers: BinaryHeap::new(),
            rx,
            remote: Remote { tx, waker },
            role,
            config,
            clock,
            next_id: 0,
            dirty: Vec::new(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            stopping: false,
        })
    }

    pub(crate) fn remote(&self) -> Remote {
        self.remote.clone()
    }

    pub(crate) fn listen(&mut self, mut listener: TcpListener) -> io::Result<()> {
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// Serves TLS on the listener's connections (ALPN already offered by `config`).
    pub(crate) fn serve_tls(&mut self, config: Arc<rustls::ServerConfig>) {
        self.tls = Some(config);
    }

    /// Adds a connection; it is driven at the next turn.
    pub(crate) fn add(
        &mut self,
        io: Box<dyn Io>,
        read_buf: BytesMut,
        proto: Proto,
    ) -> io::Result<()> {
        self.add_with_tls(io, None, read_buf, proto)
    }

    /// As [`EventLoop::add`], with the connection's TLS session (a client's, after its
    /// handshake; a server's, before).
    pub(crate) fn add_with_tls(
        &mut self,
        mut io: Box<dyn Io>,
        tls: Option<Tls>,
        read_buf: BytesMut,
        proto: Proto,
    ) -> io::Result<()> {
        let entry = self.conns.vacant_entry();
        let slot = entry.key();
        self.poll
            .registry()
            .register(&mut *io, Token(slot), Interest::READABLE)?;
        self.next_id += 1;
        entry.insert(Conn {
            id: self.next_id,
            io,
            tls,
            read_buf,
            write_q: VecDeque::new(),
            queued: 0,
            read_closed: false,
            closing: false,
            proto,
            accepted: (self.clock)(),
            timer: None,
            flush_deadline: None,
            linger_deadline: None,
            writable: false,
            done: false,
        });
        self.dirty.push(slot);
        Ok(())
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Runs until there is no connection left (and no listener).
    pub(crate) fn run(&mut self) -> io::Result<()> {
        while self.listener.is_some() || !self.conns.is_empty() {
            self.turn(None)?;
        }
        Ok(())
    }

    /// One round: wait for readiness (at most `max_wait`, and not past the earliest timer),
    /// then take messages, fire timers and drive every connection that has something to do.
    pub(crate) fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        let now = (self.clock)();
        let mut wait = self
            .timers
            .peek()
            .map(|Reverse((d, _, _))| d.saturating_duration_since(now));
        if let Some(m) = max_wait {
            wait = Some(wait.map_or(m, |w| w.min(m)));
        }
        if !self.dirty.is_empty() {
            wait = Some(Duration::ZERO);
        }
        if let Err(e) = self.poll.poll(&mut self.events, wait) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let mut accept = false;
        for ev in self.events.iter() {
            match ev.token() {
                WAKER => {}
                LISTENER => accept = true,
                Token(slot) => self.dirty.push(slot),
            }
        }
        if accept {
            self.accept();
        }
        while let Ok(msg) = self.rx.try_recv() {
            self.message(msg);
        }
        let now = (self.clock)();
        while let Some(Reverse((d, slot, id))) = self.timers.peek().copied() {
            if d > now {
                break;
            }
            self.timers.pop();
            if let Some(c) = self.conns.get_mut(slot) {
                if c.id == id && c.timer == Some(d) {
                    c.timer = None;
                    self.dirty.push(slot);
                }
            }
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for slot in dirty {
            self.drive(slot);
        }
        Ok(())
    }

    /// Drives every connection (tests: after the transport changed behind the loop's back).
    pub(crate) fn drive_all(&mut self) {
        let slots: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for slot in slots {
            self.drive(slot);
        }
    }

    fn accept(&mut self) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::trace!(%peer, "accepted");
                    let added = match &self.tls {
                        None => self.add(Box::new(stream), BytesMut::new(), Proto::Sniff),
                        Some(config) => match rustls::ServerConnection::new(config.clone()) {
                            Ok(session) => {
                                let tls = Tls::new(rustls::Connection::Server(session));
                                self.add_with_tls(
                                    Box::new(stream),
                                    Some(tls),
                                    BytesMut::new(),
                                    Proto::Handshake,
                                )
                            }
                            Err(e) => Err(io::Error::other(e)),
                        },
                    };
                    if let Err(e) = added {
                        tracing::debug!("register: {e}");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, most likely: try again at the next readiness.
                    tracing::debug!("accept: {e}");
                    return;
                }
            }
        }
    }

    fn key(&self, slot: usize) -> Option<Key> {
        self.conns.get(slot).map(|c| Key { slot, id: c.id })
    }

    /// The connection a message is for, if it still exists; client and tap loops have one.
    fn conn_for(&mut self, key: Option<Key>) -> Option<(usize, &mut Conn)> {
        match key {
            Some(k) => match self.conns.get_mut(k.slot) {
                Some(c) if c.id == k.id => Some((k.slot, c)),
                _ => None,
            },
            None => self.conns.iter_mut().next(),
        }
    }

    pub(crate) fn message(&mut self, msg: Msg) {
        let now = (self.clock)();
        match msg {
            Msg::Shutdown => {
                self.stopping = true;
                if let Some(mut l) = self.listener.take() {
                    let _ = self.poll.registry().deregister(&mut l);
                }
                for (slot, c) in self.conns.iter_mut() {
                    match &mut c.proto {
                        Proto::H2(h2) => {
                            let _ = h2.conn.shutdown(now);
                        }
                        _ => c.closing = true,
                    }
                    self.dirty.push(slot);
                }
            }
            Msg::Body { key } => {
                if self.conn_for(Some(key)).is_some() {
                    self.dirty.push(key.slot);
                }
            }
            Msg::Respond {
                key,
                stream,
                response,
            } => {
                let remote = self.remote.clone();
                let Some((slot, c)) = self.conn_for(Some(key)) else {
                    Out::from_body(response.into_body()).abandon();
                    return;
                };
                let mut proto = std::mem::replace(&mut c.proto, Proto::Gone);
                match &mut proto {
                    Proto::H2(h2) => respond_h2(h2, key, &remote, stream, response),
                    Proto::H1(h1) => h1.respond(c, key, &remote, response),
                    _ => Out::from_body(response.into_body()).abandon(),
                }
                c.proto = proto;
                self.dirty.push(slot);
            }
            Msg::Push {
                key,
                parent,
                request,
                response,
                reply,
            } => {
                let remote = self.remote.clone();
                let Some((slot, c)) = self.conn_for(Some(key)) else {
                    let _ = reply.send(Err(Error::ConnectionGone));
                    return;
                };
                let Proto::H2(h2) = &mut c.proto else {
                    let _ = reply.send(Err(Error::Malformed("push over HTTP/1.1")));
                    return;
                };
                let r = h2.conn.push_promise(parent, request).map_err(Error::User);
                let r = r.map(|id| respond_h2(h2, key, &remote, id, response));
                let _ = reply.send(r);
                self.dirty.push(slot);
            }
            Msg::Request {
                head,
                body,
                reply,
                reserved,
            } => {
                let shared = match &self.role {
                    Role::Client { shared } => Some(shared.clone()),
                    _ => None,
                };
                // The slot goes back whatever happens: the stream is open and counted by the
                // core, or the request failed.
                let _release = Release(shared.as_deref().filter(|_| reserved));
                // Not started here: the pool may send it elsewhere.
                let gone = || Err(Error::User(h2core::UserError::ConnectionClosed));
                let Some((slot, c)) = self.conn_for(None) else {
                    let _ = reply.send(gone());
                    return;
                };
                let Proto::H2(h2) = &mut c.proto else {
                    let _ = reply.send(gone());
                    return;
                };
                let sent = h2.conn.send_request(head, body.is_empty());
                if let Some(shared) = &shared {
                    shared.update(&h2.conn);
                }
                match sent {
                    Ok(id) => {
                        let s = h2.streams.entry(id).or_default();
                        s.reply = Some(reply);
                        if !body.is_empty() {
                            s.out = Some(Out::Full(body));
                        }
                    }
                    Err(e) => {
                        let _ = reply.send(Err(Error::User(e)));
                    }
                }
                self.dirty.push(slot);
            }
            Msg::Expect { stream, reply } => {
                if let Some((slot, c)) = self.conn_for(None) {
                    if let Proto::H2(h2) = &mut c.proto {
                        h2.streams.entry(stream).or_default().reply = Some(reply);
                    }
                    self.dirty.push(slot);
                }
            }
        }
    }

    /// Runs `call` on the core of the (only) HTTP/2 connection, then drives it.
    pub(crate) fn with_core(&mut self, call: CoreCall) {
        let now = (self.clock)();
        if let Some((slot, c)) = self.conn_for(None) {
            if let Proto::H2(h2) = &mut c.proto {
                call(&mut h2.conn, now);
            }
            self.dirty.push(slot);
        }
    }

    fn drive(&mut self, slot: usize) {
        let Some(key) = self.key(slot) else {
            return;
        };
        let now = (self.clock)();
        let ctx = Ctx {
            now,
            key,
            remote: &self.remote,
            role: &self.role,
            config: &self.config,
        };
        let c = &mut self.conns[slot];
        let scratch = &mut self.scratch;
        // Timers first: whatever fired may have output.
        if c.deadline(ctx.config).is_some_and(|d| d <= now) {
            fire(c, &ctx);
        }
        let mut busy = true;
        for _ in 0..64 {
            let mut progress = step(c, &ctx, scratch);
            match c.flush() {
                Ok(w) => progress |= w,
                Err(e) => {
                    tracing::debug!("write: {e}");
                    if let Proto::H2(h2) = &mut c.proto {
                        h2.conn.handle_eof(now);
                        while let Some(ev) = h2.conn.poll_event() {
                            event(h2, &ctx, ev);
                        }
                    }
                    c.done = true;
                }
            }
            if c.done || !progress {
                busy = false;
                break;
            }
        }
        if busy {
            // Plenty done in one go: let the others have a turn, then continue.
            self.dirty.push(slot);
        }
        self.finish(slot);
    }

    /// Interest, timer and removal after a connection was driven.
    fn finish(&mut self, slot: usize) {
        let c = &mut self.conns[slot];
        if c.done {
            let mut c = self.conns.remove(slot);
            let _ = self.poll.registry().deregister(&mut *c.io);
            if let Proto::H2(h2) = &mut c.proto {
                for (_, s) in h2.streams.drain() {
                    if let Some(out) = s.out {
                        out.abandon();
                    }
                }
            }
            if self.stopping && self.conns.is_empty() {
                self.listener = None;
            }
            if let Role::Client { shared } = &self.role {
                shared.finish();
            }
            return;
        }
        let want_write = c.pending_out();
        if want_write != c.writable {
            c.writable = want_write;
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) = self
                .poll
                .registry()
                .reregister(&mut *c.io, Token(slot), interest)
            {
                tracing::debug!("reregister: {e}");
            }
        }
        if let Some(d) = c.deadline(&self.config) {
            // A later deadline keeps the earlier heap entry: it fires early and is put back.
            if c.timer.is_none_or(|t| d < t) {
                c.timer = Some(d);
                self.timers.push(Reverse((d, slot, c.id)));
            }
        }
    }
}

/// Releases a client request's reserved slot when dropped.
struct Release<'a>(Option<&'a crate::client::Shared>);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.0 {
            shared.release();
        }
    }
}

/// A deadline passed.
fn fire(c: &mut Conn, ctx: &Ctx<'_>) {
    if c.linger_deadline.is_some_and(|d| d <= ctx.now) {
        c.done = true;
        return;
    }
    if c.flush_deadline.is_some_and(|d| d <= ctx.now) {
        // The peer does not read our last bytes: drop them.
        c.write_q.clear();
        c.queued = 0;
        c.done = true;
        return;
    }
    match &mut c.proto {
        // A client that never completes the TLS handshake is dropped like an absent preface.
        Proto::Handshake => c.done = true,
        Proto::Sniff => {
            if c.read_buf.is_empty() {
                // Absent preface: nothing said, so no protocol to answer in; close.
                c.done = true;
            } else {
                // A slow preface, part of HTTP/2's: the core says why (RFC 9113 §3.4).
                let mut config = ctx.config.clone();
                config.handshake_timeout = Duration::ZERO;
                let conn = Connection::new(config, ctx.now);
                c.proto = Proto::H2(Box::new(H2::new(conn, None, true)));
            }
        }
        Proto::H2(h2) => h2.conn.handle_timeout(ctx.now),
        _ => {}
    }
}

/// One round of work on a connection; true if anything happened.
fn step(c: &mut Conn, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
    if c.linger_deadline.is_some() {
        // Our FIN is out: drop what the peer still sends until it closes too.
        while !c.read_closed && c.read_some(scratch) {
            c.read_buf.clear();
        }
        if c.read_closed {
            c.done = true;
        }
        return false;
    }
    let mut proto = std::mem::replace(&mut c.proto, Proto::Gone);
    let mut progress = false;
    match &mut proto {
        Proto::Sniff => {
            progress = c.read_some(scratch);
            match sniff(&c.read_buf) {
                Sniff::NeedMore => {
                    if c.read_closed {
                        c.done = true;
                    }
                }
                Sniff::Http2 => {
                    let mut config = ctx.config.clone();
                    config.handshake_timeout = config
                        .handshake_timeout
                        .saturating_sub(ctx.now.saturating_duration_since(c.accepted));
                    let conn = Connection::new(config, ctx.now);
                    proto = Proto::H2(Box::new(H2::new(conn, None, true)));
                    progress = true;
                }
                Sniff::Http1 => {
                    proto = Proto::H1(Box::new(H1::new(false)));
                    progress = true;
                }
            }
        }
        Proto::Handshake => {
            progress = c.read_some(scratch);
            let alpn = c.tls.as_ref().and_then(|t| {
                (!t.session.is_handshaking()).then(|| t.session.alpn_protocol() == Some(ALPN_H2))
            });
            match alpn {
                Some(true) => {
                    let mut config = ctx.config.clone();
                    // The preface deadline counts from the accept: the handshake used part.
                    config.handshake_timeout = config
                        .handshake_timeout
                        .saturating_sub(ctx.now.saturating_duration_since(c.accepted));
                    let conn = Connection::new(config, ctx.now);
                    let unparsed = !c.read_buf.is_empty();
                    proto = Proto::H2(Box::new(H2::new(conn, None, unparsed)));
                    progress = true;
                }
                Some(false) => {
                    // `http/1.1` or no ALPN; `Upgrade: h2c` is for cleartext only (§3.2).
                    proto = Proto::H1(Box::new(H1::new(true)));
                    progress = true;
                }
                None if c.read_closed => c.done = true,
                None => {}
            }
        }
        Proto::H1(h1) => {
            if let Some(upgraded) = h1.step(c, ctx, scratch, &mut progress) {
                proto = Proto::H2(Box::new(upgraded));
                progress = true;
            }
        }
        Proto::H2(h2) => progress = step_h2(c, h2, ctx, scratch),
        Proto::Gone => {}
    }
    c.proto = proto;
    let over = match &c.proto {
        Proto::H2(h2) => h2.conn.is_closed(),
        _ => c.closing,
    };
    if over && !c.done {
        if c.write_q.is_empty() {
            c.close_tls();
        }
        if !c.pending_out() {
            let _ = c.io.shutdown_write();
            if c.read_closed {
                c.done = true;
            } else {
                c.linger_deadline = Some(ctx.now + LINGER);
            }
        } else if c.flush_deadline.is_none() {
            c.flush_deadline = Some(ctx.now + CLOSE_FLUSH_GRACE);
        }
    }
    progress
}

fn step_h2(c: &mut Conn, h2: &mut H2, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
    let mut progress = false;
    if h2.unparsed {
        // Fed as one read, before any more is read: its replies go out first.
        h2.unparsed = false;
        let _ = h2.conn.handle_input(ctx.now, &mut c.read_buf);
        progress = true;
    } else if h2.conn.wants_read() && !c.read_closed && c.read_some(scratch) {
        progress = true;
        if !c.read_buf.is_empty() {
            let _ = h2.conn.handle_input(ctx.now, &mut c.read_buf);
        }
        if c.read_closed {
            h2.conn.handle_eof(ctx.now);
        }
    }
    if c.read_buf.is_empty() && c.read_buf.capacity() > 4096 {
        // An idle connection keeps no read buffer.
        c.read_buf = BytesMut::new();
    }
    while let Some(ev) = h2.conn.poll_event() {
        if let Event::ConnectionTerminated { reason, remote, .. } = &ev {
            // Ended by us in error with nothing left to send: the core dropped its output
            // because the peer does not read (`Config::write_timeout`); what we still hold
            // cannot reach the peer either.
            if !*remote && *reason != Reason::NO_ERROR && h2.conn.is_closed() {
                c.write_q.clear();
                c.queued = 0;
            }
        }
        event(h2, ctx, ev);
        progress = true;
    }
    progress |= pump_h2(h2);
    h2.streams.retain(|_, s| !s.done());
    if let Role::Client { shared } = ctx.role {
        shared.update(&h2.conn);
    }
    if c.write_q.is_empty() {
        h2.out.clear();
        if h2.conn.poll_transmit(ctx.now, &mut h2.out) > 0 {
            for b in h2.out.drain(..) {
                c.push(b);
            }
            progress = true;
        }
    }
    progress
}

/// Sends body bytes on streams that have send capacity: a body is taken only as fast as flow
/// control lets it go out.
fn pump_h2(h2: &mut H2) -> bool {
    let mut progress = false;
    let conn = &mut h2.conn;
    for (&id, s) in h2.streams.iter_mut() {
        while let Some(out) = s.out.as_mut() {
            let cap = conn.send_capacity(id);
            match out {
                Out::Full(b) => {
                    if cap == 0 {
                        break;
                    }
                    let chunk = b.split_to(cap.min(b.len()));
                    let last = b.is_empty();
                    progress = true;
                    if conn.send_data(id, chunk, last).is_err() || last {
                        s.out = None;
                    }
                }
                Out::Chan(ch) => {
                    let Some(item) = ch.pop(cap > 0) else {
                        break;
                    };
                    progress = true;
                    let ok = match item {
                        Item::Data(d) => conn.send_data(id, d, false).is_ok(),
                        Item::Trailers(t) => {
                            let _ = conn.send_trailers(id, h2_http::trailers_to_h2(&t));
                            false
                        }
                        Item::End => {
                            let _ = conn.send_data(id, Bytes::new(), true);
                            false
                        }
                    };
                    if !ok {
                        if let Some(out) = s.out.take() {
                            out.abandon();
                        }
                    }
                }
            }
        }
    }
    progress
}

fn respond_h2(h2: &mut H2, key: Key, remote: &Remote, stream: StreamId, resp: Response<Body>) {
    let mut head = h2_http::response_to_h2(&resp);
    let body = resp.into_body();
    if let Some(n) = body.size_hint() {
        let has_length = head.iter().any(|h| h.name == "content-length");
        let status = head.first().map(|h| h.value.clone()).unwrap_or_default();
        if !has_length && status != "204" && status != "304" {
            head.push(Header::new("content-length", n.to_string()));
        }
    }
    let out = Out::from_body(body);
    let end_stream = matches!(&out, Out::Full(b) if b.is_empty());
    if h2.conn.send_response(stream, head, end_stream).is_err() || end_stream {
        out.abandon();
        return;
    }
    if let Out::Chan(ch) = &out {
        let remote = remote.clone();
        ch.attach(Box::new(move || {
            let _ = remote.send(Msg::Body { key });
        }));
    }
    h2.streams.entry(stream).or_default().out = Some(out);
}

fn event(h2: &mut H2, ctx: &Ctx<'_>, ev: Event) {
    match ctx.role {
        Role::Tap { events } => {
            let _ = events.send(ev);
            return;
        }
        Role::Client { shared } => shared.observe(&h2.conn, &ev),
        Role::Server { .. } => {}
    }
    match ev {
        Event::RequestReceived {
            stream, headers, ..
        }
        | Event::ResponseReceived {
            stream, headers, ..
        } => {
            let s = h2.streams.entry(stream).or_default();
            s.head = Some(headers);
        }
        Event::DataReceived { stream, data, .. } => {
            // Collected for the handler or the caller: consumed at once (padding already was).
            h2.conn.release_capacity(stream, data.len());
            let Some(s) = h2.streams.get_mut(&stream) else {
                return;
            };
            if s.head.is_none() {
                return;
            }
            if s.body.len() + data.len() > MAX_REQUEST_BODY {
                s.head = None;
                s.body = BytesMut::new();
                match ctx.role {
                    Role::Server { .. } => {
                        let head = vec![Header::new(":status", "413")];
                        let _ = h2.conn.send_response(stream, head, true);
                        let _ = h2.conn.reset(stream, Reason::NO_ERROR);
                    }
                    _ => {
                        let _ = h2.conn.reset(stream, Reason::CANCEL);
                        if let Some(tx) = s.reply.take() {
                            let _ = tx.send(Err(Error::Malformed("response body too large")));
                        }
                    }
                }
                return;
            }
            s.body.extend_from_slice(&data);
        }
        Event::TrailersReceived { stream, headers } => {
            if let Some(s) = h2.streams.get_mut(&stream) {
                s.trailers = Some(headers);
            }
        }
        Event::StreamEnded { stream } => {
            let Some(s) = h2.streams.get_mut(&stream) else {
                return;
            };
            let Some(head) = s.head.take() else {
                return;
            };
            let mut body = std::mem::take(&mut s.body).freeze();
            if stream.value() == 1 {
                if let Some(b) = h2.upgrade_body.take() {
                    body = b;
                }
            }
            match ctx.role {
                Role::Server { handler, pool } => {
                    let req = h2_http::request_from_h2(&head).map(|mut parts| {
                        let pusher = crate::Pusher::new(ctx.remote.clone(), ctx.key, stream);
                        parts.extensions.insert(pusher);
                        http::Request::from_parts(parts, body)
                    });
                    match req {
                        Ok(req) => dispatch(handler, pool, ctx.remote, ctx.key, stream, req),
                        Err(_) => {
                            let _ = h2.conn.reset(stream, Reason::PROTOCOL_ERROR);
                        }
                    }
                }
                Role::Client { .. } => {
                    let trailers = s.trailers.take();
                    if let Some(tx) = s.reply.take() {
                        let _ = tx.send(client_response(&head, body, trailers));
                    }
                }
                Role::Tap { .. } => {}
            }
        }
        Event::StreamReset { stream, reason, .. } => {
            if let Some(s) = h2.streams.remove(&stream) {
                if let Some(out) = s.out {
                    out.abandon();
                }
                if let Some(tx) = s.reply {
                    let _ = tx.send(Err(Error::Reset(reason)));
                }
            }
        }
        Event::ConnectionTerminated {
            reason,
            remote,
            detail,
        } => {
            for (_, s) in h2.streams.drain() {
                if let Some(out) = s.out {
                    out.abandon();
                }
                if let Some(tx) = s.reply {
                    let _ = tx.send(Err(Error::Connection {
                        reason,
                        remote,
                        detail: detail.clone(),
                    }));
                }
            }
        }
        _ => {}
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

/// Runs the handler on the pool; its response comes back through the loop's channel.
pub(crate) fn dispatch(
    handler: &Handler,
    pool: &Pool,
    remote: &Remote,
    key: Key,
    stream: StreamId,
    req: Request<Bytes>,
) {
    let handler = handler.clone();
    let remote = remote.clone();
    pool.execute(move || {
        let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(req)))
            .unwrap_or_else(|_| {
                let mut r = Response::new(Body::from("handler panicked\n"));
                *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                r
            });
        let _ = remote.send(Msg::Respond {
            key,
            stream,
            response,
        });
    });
}
