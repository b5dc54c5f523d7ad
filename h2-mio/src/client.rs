//! A blocking client for one origin: requests over HTTP/2 by prior knowledge, after `Upgrade:
//! h2c`, or over TLS with ALPN `h2`. Each connection is driven by its own event loop thread;
//! [`Client::send`] waits for the response head, [`Client::start`] does not, so many requests
//! share a connection; request and response bodies stream both ways under flow control. A new connection opens when the server's SETTINGS_MAX_CONCURRENT_STREAMS is
//! reached or a connection is going away (GOAWAY), and requests the server refused unprocessed
//! are sent again (RFC 9113 §8.7).

use crate::body::Body;
use crate::event_loop::{system_clock, EventLoop, Proto};
use crate::h2::H2;
use crate::io::Io;
use crate::remote::{next_request_id, Msg, PushSink, Remote, Role};
use crate::response::{Pushes, Reply, ReplyTx, Waiting};
use bytes::{Bytes, BytesMut};
use h2_http::{Error, OnInformational};
use h2core::http1;
use h2core::shell::pool::{self, Pick, Retry, Slots, MAX_ATTEMPTS, OPEN_TIMEOUT};
use h2core::{Config, Connection, Header, StreamId};
use http::{Request, Response};
use rustls::pki_types::ServerName;
use std::io::{Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Instant;

/// Wakes the threads waiting on the pool: a connection became ready, went away, or finished
/// opening. A generation counter, so a wake between a check and the wait is not lost.
#[derive(Default)]
pub(crate) struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Waits until something changed since `seen`; false once `deadline` passed.
    fn wait(&self, seen: u64, deadline: Instant) -> bool {
        let guard = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let left = deadline.saturating_duration_since(Instant::now());
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, left, |g| *g == seen)
            .unwrap_or_else(|e| e.into_inner());
        *guard != seen
    }
}

/// One connection of the pool.
#[derive(Clone)]
struct Handle {
    remote: Remote,
    slots: Arc<Slots>,
}

/// How connections of a pool are made.
enum Transport {
    /// HTTP/2 by prior knowledge (RFC 9113 §3.3).
    Cleartext,
    /// TLS, ALPN `h2` (RFC 9113 §3.2).
    Tls(Arc<rustls::ClientConfig>, ServerName<'static>),
}

struct Pool {
    addrs: Vec<SocketAddr>,
    config: Config,
    transport: Transport,
    state: Mutex<PoolState>,
    signal: Arc<Signal>,
    connections_opened: AtomicU64,
    retries: AtomicU64,
    /// HEADERS + CONTINUATION payload bytes sent on every connection (each loop adds its own).
    header_bytes: Arc<AtomicU64>,
    pushes: PushSink,
}

#[derive(Default)]
struct PoolState {
    /// Connections that may take new requests.
    conns: Vec<Handle>,
    /// Connections being opened (at most one at a time: the others wait for it).
    opening: usize,
    /// The loop thread of every connection opened, for [`Client::close`] to wait on.
    loops: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Every handle and pending response is gone: close gracefully once the streams are
        // done (GOAWAY, RFC 9113 §6.8).
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for c in state.conns.drain(..) {
            let _ = c.remote.send(Msg::Shutdown);
        }
    }
}

/// Counts a connection being opened; on drop (done or failed) wakes the requests that waited
/// for it.
struct Opening<'a>(&'a Pool);

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.lock().opening -= 1;
        self.0.signal.notify();
    }
}

impl Pool {
    fn new(addrs: Vec<SocketAddr>, config: Config, transport: Transport) -> Pool {
        Pool {
            addrs,
            config,
            transport,
            state: Mutex::default(),
            signal: Arc::default(),
            connections_opened: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            header_bytes: Arc::default(),
            pushes: PushSink::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scheme(&self) -> &'static str {
        match self.transport {
            Transport::Cleartext => "http",
            Transport::Tls(..) => "https",
        }
    }

    /// Opens a connection and waits for the server's SETTINGS, so its limits are known.
    fn open(&self) -> Result<Handle, Error> {
        let mut socket = connect_std(&self.addrs)?;
        let tls = match &self.transport {
            Transport::Cleartext => None,
            Transport::Tls(config, name) => Some(tls_handshake(&mut socket, config, name)?),
        };
        let conn = Connection::new(self.config.clone(), Instant::now());
        let handle = spawn(socket, tls, BytesMut::new(), conn, self, None)?;
        wait_ready(&handle, &self.signal)?;
        Ok(handle)
    }

    /// A connection with a slot reserved for one request: one with room, else the one being
    /// opened once it is ready, else a new one.
    fn pick(&self) -> Result<Handle, Error> {
        // Bounded: whoever opens gives up after its own timeouts and wakes us.
        let deadline = Instant::now() + 4 * OPEN_TIMEOUT;
        loop {
            let seen = self.signal.generation();
            {
                let mut state = self.lock();
                state.conns.retain(|c| !c.slots.is_closing());
                let slots = state.conns.iter().map(|c| &*c.slots);
                match pool::pick(slots, state.opening) {
                    Pick::Use(i) => return Ok(state.conns[i].clone()),
                    Pick::Open => {
                        state.opening += 1;
                        break;
                    }
                    Pick::Wait => {}
                }
            }
            if !self.signal.wait(seen, deadline) {
                return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
            }
        }
        let opening = Opening(self);
        let conn = self.open()?;
        // Ours before the waiters (woken when `opening` drops) take the rest. A server that
        // allows no stream at all: the core queues the request until it does.
        if !conn.slots.try_reserve() {
            conn.slots.force_reserve();
        }
        self.lock().conns.push(conn.clone());
        drop(opening);
        Ok(conn)
    }

    /// Sends a request on a reserved slot; its response comes through the returned
    /// [`Waiting`], which cancels the stream if dropped before the head.
    fn dispatch(
        &self,
        head: &[Header],
        mut body: Body,
        on_informational: &Option<OnInformational>,
    ) -> Result<Waiting, Error> {
        // Bounded: a connection that is gone before taking the request is dropped from the
        // pool, so each round opens or finds another.
        for _ in 0..MAX_ATTEMPTS {
            let conn = self.pick()?;
            let (reply, rx) = mpsc::channel();
            let id = next_request_id();
            let msg = Msg::Request {
                id,
                head: head.to_vec(),
                body,
                reply,
                on_informational: on_informational.clone(),
                reserved: true,
            };
            match conn.remote.try_send(msg) {
                Ok(()) => {
                    let remote = conn.remote.clone();
                    let forget = Box::new(move || {
                        let _ = remote.send(Msg::Forget { id });
                    });
                    return Ok(Waiting::new(rx, forget));
                }
                Err(msg) => {
                    conn.slots.release();
                    conn.slots.finish();
                    let Msg::Request { body: back, .. } = *msg else {
                        unreachable!("sent a request")
                    };
                    body = back;
                }
            }
        }
        Err(Error::ConnectionGone)
    }
}

/// Waits until the server's SETTINGS arrived on `handle` (or the connection ended).
fn wait_ready(handle: &Handle, signal: &Signal) -> Result<(), Error> {
    let deadline = Instant::now() + OPEN_TIMEOUT;
    loop {
        let seen = signal.generation();
        if handle.slots.is_ready() {
            break;
        }
        if !signal.wait(seen, deadline) {
            let _ = handle.remote.send(Msg::Shutdown);
            return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
        }
    }
    if handle.slots.is_closing() {
        return Err(Error::ConnectionGone);
    }
    Ok(())
}

/// A client for one origin: opens connections as needed and spreads requests over them;
/// cheap to clone. Connections close gracefully when every handle and pending response is
/// gone.
///
/// A new connection takes requests once the server's SETTINGS arrived, so its
/// SETTINGS_MAX_CONCURRENT_STREAMS is known; requests that find every connection full wait for
/// the one being opened rather than each opening their own. A request the server refused
/// without processing it (REFUSED_STREAM, or above a GOAWAY's last-stream-id, RFC 9113 §8.7) is
/// sent again on another connection; a request without a body and with an idempotent method
/// (RFC 9110 §9.2.2) is also sent again once when its connection failed before the response.
#[derive(Clone)]
pub struct Client {
    pool: Arc<Pool>,
}

/// Counters of a [`Client`] since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Connections opened, the first one included.
    pub connections_opened: u64,
    /// HEADERS + CONTINUATION payload bytes (compressed header blocks) sent on all of them.
    pub header_bytes_sent: u64,
    /// Requests sent again after a refusal or a failed connection.
    pub retries: u64,
}

/// A response still on its way. Dropping it before the head arrived resets the stream with
/// CANCEL (RFC 9113 §8.1).
pub struct PendingResponse {
    pool: Arc<Pool>,
    head: Vec<Header>,
    /// A body given whole, kept to send again (cheap: `Bytes` is shared).
    whole: Option<Bytes>,
    on_informational: Option<OnInformational>,
    waiting: Waiting,
    retry: Retry,
}

impl PendingResponse {
    /// Blocks until the response head arrived; the body streams ([`Body::data`], trailers as
    /// [`Frame::Trailers`](crate::Frame::Trailers) at its end). Sends the request again first
    /// if the server refused it unprocessed (RFC 9113 §8.7) and none of a streamed body was
    /// taken yet.
    pub fn wait(mut self) -> Result<Response<Body>, Error> {
        loop {
            let (err, back) = match self.waiting.recv() {
                Reply::Head(response) => return Ok(response),
                Reply::Failed(e, back) => (e, back),
            };
            let body = match &self.whole {
                Some(b) => Some(Body::from(b.clone())),
                None => back,
            };
            let Some(body) = body.filter(|_| self.retry.again(err.failure(), true)) else {
                return Err(err);
            };
            self.pool.retries.fetch_add(1, Ordering::Relaxed);
            self.waiting = self
                .pool
                .dispatch(&self.head, body, &self.on_informational)?;
        }
    }
}

fn connect_std(addrs: &[SocketAddr]) -> Result<std::net::TcpStream, Error> {
    let mut last = None;
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(addr, OPEN_TIMEOUT) {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                return Ok(socket);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(Error::Io(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address")
    })))
}

fn resolve(addr: impl ToSocketAddrs) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no address",
        )));
    }
    Ok(addrs)
}

/// The TLS handshake, blocking, before the loop takes the socket: its ALPN must be `h2`.
fn tls_handshake(
    socket: &mut std::net::TcpStream,
    config: &Arc<rustls::ClientConfig>,
    name: &ServerName<'static>,
) -> Result<rustls::Connection, Error> {
    let mut session = rustls::ClientConnection::new(config.clone(), name.clone())
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    socket.set_read_timeout(Some(OPEN_TIMEOUT))?;
    socket.set_write_timeout(Some(OPEN_TIMEOUT))?;
    // Bounded: each round trip of the handshake is one call (TLS 1.2 needs two).
    for _ in 0..8 {
        if !session.is_handshaking() {
            break;
        }
        if let Err(e) = session.complete_io(socket) {
            let alert = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
            if let Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::NoApplicationProtocol,
            )) = alert
            {
                // The server offers no protocol we asked for (RFC 7301 §3.2).
                return Err(Error::Malformed("ALPN: the server did not select h2"));
            }
            return Err(e.into());
        }
    }
    if session.is_handshaking() {
        return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
    }
    socket.set_read_timeout(None)?;
    socket.set_write_timeout(None)?;
    if session.alpn_protocol() != Some(h2_http::tls::ALPN_H2) {
        // RFC 9113 §3.2: HTTP/2 over TLS only after ALPN selected `h2`.
        return Err(Error::Malformed("ALPN: the server did not select h2"));
    }
    // What rustls still holds (our Finished) goes out with the loop's first flush.
    Ok(rustls::Connection::Client(session))
}

/// Starts the loop thread over `socket`, already speaking HTTP/2 through `conn`, as a
/// connection of `pool` (not yet in its list).
fn spawn(
    socket: std::net::TcpStream,
    tls: Option<rustls::Connection>,
    read_buf: BytesMut,
    conn: Connection,
    pool: &Pool,
    expect: Option<ReplyTx>,
) -> Result<Handle, Error> {
    socket.set_nonblocking(true)?;
    let io = mio::net::TcpStream::from_std(socket);
    spawn_io(Box::new(io), tls, read_buf, conn, pool, expect)
}

/// As [`spawn`], over any transport the loop can drive.
fn spawn_io(
    io: Box<dyn Io>,
    tls: Option<rustls::Connection>,
    read_buf: BytesMut,
    conn: Connection,
    pool: &Pool,
    expect: Option<ReplyTx>,
) -> Result<Handle, Error> {
    let slots = Arc::new(Slots::new());
    let signal = pool.signal.clone();
    let wake = signal.clone();
    let role = Role::Client {
        slots: slots.clone(),
        wake: Arc::new(move || wake.notify()),
        pushes: pool.pushes.clone(),
        header_bytes: pool.header_bytes.clone(),
    };
    let mut ev = EventLoop::new(pool.config.clone(), system_clock(), |_| role)?;
    let unparsed = !read_buf.is_empty();
    let h2 = Proto::H2(Box::new(H2::new(conn, None, unparsed)));
    ev.add(io, tls, read_buf, h2)?;
    if let Some(reply) = expect {
        // Registered before the loop runs: the response may be among the first bytes.
        ev.message(Msg::Expect {
            stream: StreamId::new(1),
            reply,
        });
    }
    let handle = Handle {
        remote: ev.remote(),
        slots: slots.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("h2-mio-client".into())
        .spawn(move || {
            if let Err(e) = ev.run() {
                tracing::debug!("client loop: {e}");
            }
            // However the loop ended, the pool must not wait for this connection.
            if slots.finish() {
                signal.notify();
            }
        })?;
    let mut state = pool.lock();
    state.loops.retain(|t| !t.is_finished());
    state.loops.push(thread);
    drop(state);
    pool.connections_opened.fetch_add(1, Ordering::Relaxed);
    Ok(handle)
}

impl Client {
    /// Connects to `addr` and speaks HTTP/2 at once (h2c by prior knowledge, RFC 9113 §3.3).
    pub fn connect(addr: impl ToSocketAddrs) -> Result<Client, Error> {
        Client::connect_with(addr, Config::client())
    }

    /// As [`Client::connect`], with `config` for every connection.
    pub fn connect_with(addr: impl ToSocketAddrs, config: Config) -> Result<Client, Error> {
        Client::build(resolve(addr)?, config, Transport::Cleartext)
    }

    /// Connects with TLS to `addr`, checking the certificate against `server_name` (see
    /// [`crate::tls`] for configs). The config should offer ALPN `h2`; fails if the server does
    /// not select it (RFC 9113 §3.2).
    pub fn connect_tls(
        addr: impl ToSocketAddrs,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Client, Error> {
        Client::connect_tls_with(addr, server_name, tls, Config::client())
    }

    /// As [`Client::connect_tls`], with `config` for every connection.
    pub fn connect_tls_with(
        addr: impl ToSocketAddrs,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
        config: Config,
    ) -> Result<Client, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::Malformed("server name"))?;
        Client::build(resolve(addr)?, config, Transport::Tls(tls, name))
    }

    /// Opens the first connection now, so that an unreachable server or a failed handshake is
    /// reported here.
    fn build(
        addrs: Vec<SocketAddr>,
        config: Config,
        transport: Transport,
    ) -> Result<Client, Error> {
        let pool = Arc::new(Pool::new(addrs, config, transport));
        let first = pool.open()?;
        pool.lock().conns.push(first);
        Ok(Client { pool })
    }

    /// Sends `request` without waiting for its response. Blocks only while a new connection
    /// opens, when every one is at the server's limit. Its body may be a [`Body::channel`]
    /// fed from another thread: it goes out as flow control allows. An
    /// [`OnInformational`] in its extensions is called with each 1xx response (e.g. 103 Early
    /// Hints, RFC 8297).
    pub fn start(&self, request: Request<Body>) -> Result<PendingResponse, Error> {
        let head = h2_http::request_to_h2(&request, self.pool.scheme());
        let idempotent = request.method().is_idempotent();
        let on_informational = request.extensions().get::<OnInformational>().cloned();
        let body = request.into_body();
        let retry = Retry::new(idempotent, body.is_end_stream());
        let whole = body.whole();
        let waiting = self.pool.dispatch(&head, body, &on_informational)?;
        Ok(PendingResponse {
            pool: self.pool.clone(),
            head,
            whole,
            on_informational,
            waiting,
            retry,
        })
    }

    /// Sends `request` and waits for the response head; the body streams as it arrives.
    pub fn send(&self, request: Request<Body>) -> Result<Response<Body>, Error> {
        self.start(request)?.wait()
    }

    /// The responses the server pushes (RFC 9113 §8.4) from now on, on every connection of
    /// this client. While nobody listens (before the first call, or once the receiver is
    /// dropped) promised streams are reset with CANCEL. A later call replaces the receiver.
    pub fn pushes(&self) -> Pushes {
        let (tx, rx) = mpsc::channel();
        *self.pool.pushes.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        Pushes(rx)
    }

    /// How many connections are open and take new requests.
    pub fn connections(&self) -> usize {
        let mut state = self.pool.lock();
        state.conns.retain(|c| !c.slots.is_closing());
        state.conns.len()
    }

    /// The counters since the client was created.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            connections_opened: self.pool.connections_opened.load(Ordering::Relaxed),
            header_bytes_sent: self.pool.header_bytes.load(Ordering::Relaxed),
            retries: self.pool.retries.load(Ordering::Relaxed),
        }
    }

    /// Closes every connection gracefully and waits until each has ended (RFC 9113 §6.8):
    /// GOAWAY, requests in flight finish, then each connection keeps reading and answering
    /// the server's PINGs until the server closes or `Config::drain_timeout` passes, and our
    /// FIN goes out after our last bytes. Call it before a program exits, so that the server's
    /// last frames are answered rather than cut off.
    pub fn close(&self) {
        self.shutdown();
        let loops = std::mem::take(&mut self.pool.lock().loops);
        for thread in loops {
            let _ = thread.join();
        }
    }

    /// Closes every connection gracefully (GOAWAY; requests in flight finish), without
    /// waiting (see [`Client::close`]). Requests started afterwards open a new connection.
    pub fn shutdown(&self) {
        for c in self.pool.lock().conns.drain(..) {
            let _ = c.remote.send(Msg::Shutdown);
        }
    }
}

/// Starts HTTP/2 (prior knowledge, RFC 9113 §3.4) as a client over `io`, a non-blocking
/// transport the loop drives on its own thread; returns once the server's SETTINGS arrived.
/// The returned [`Client`] sends on this one connection only: once it is gone (or full, at the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS) a request fails, as there is no address to open
/// another.
pub fn handshake(io: impl Io + 'static, config: Config) -> Result<Client, Error> {
    let pool = Arc::new(Pool::new(Vec::new(), config.clone(), Transport::Cleartext));
    let conn = Connection::new(config, Instant::now());
    let handle = spawn_io(Box::new(io), None, BytesMut::new(), conn, &pool, None)?;
    wait_ready(&handle, &pool.signal)?;
    pool.lock().conns.push(handle);
    Ok(Client { pool })
}

/// Sends `request` over HTTP/1.1 with `Upgrade: h2c` (RFC 7540 §3.2); after `101 Switching
/// Protocols` its response comes on stream 1 and the connection is the first of an HTTP/2
/// [`Client`] (further connections, if the server's limit needs them, use prior knowledge). A
/// server that does not upgrade is an error.
pub fn upgrade(
    addr: impl ToSocketAddrs,
    request: Request<Body>,
) -> Result<(Client, Response<Body>), Error> {
    upgrade_with(addr, request, Config::client())
}

/// As [`upgrade`], with `config` for every connection (its SETTINGS go in `HTTP2-Settings`).
pub fn upgrade_with(
    addr: impl ToSocketAddrs,
    request: Request<Body>,
    config: Config,
) -> Result<(Client, Response<Body>), Error> {
    let addrs = resolve(addr)?;
    // Sent whole over HTTP/1.1 before the switch (RFC 7540 §3.2).
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, body.bytes()?);
    let mut socket = connect_std(&addrs)?;
    let head_request = request.method() == http::Method::HEAD;
    let mut out = BytesMut::new();
    h2_http::h2c_upgrade_request(&request, request.body(), &config.settings, &mut out)?;
    socket.write_all(&out)?;
    let limits = http1::Limits::default();
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    let head = loop {
        match http1::parse_response(&mut buf, &limits).map_err(|e| Error::Http1(e.to_string()))? {
            Some(head) if head.is_interim() && head.status != 101 => continue,
            Some(head) => break head,
            None => {
                let n = socket.read(&mut chunk)?;
                if n == 0 {
                    return Err(Error::Http1(
                        "connection closed before the upgrade response".into(),
                    ));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    };
    if head.status != 101 {
        return Err(Error::Http1(format!(
            "the server answered {} instead of upgrading",
            head.status
        )));
    }
    let conn =
        Connection::new_upgraded_client(config.clone(), std::time::Instant::now(), head_request);
    let pool = Arc::new(Pool::new(addrs, config, Transport::Cleartext));
    let (reply, rx) = mpsc::channel();
    let handle = spawn(socket, None, buf, conn, &pool, Some(reply))?;
    // Stream 1 is not sent again: its request went over HTTP/1.1.
    let response = match rx.recv() {
        Ok(Reply::Head(response)) => response,
        Ok(Reply::Failed(e, _)) => return Err(e),
        Err(_) => return Err(Error::ConnectionGone),
    };
    // Usually already there: the server's SETTINGS come first after the 101.
    if wait_ready(&handle, &pool.signal).is_ok() {
        pool.lock().conns.push(handle);
    }
    Ok((Client { pool }, response))
}
