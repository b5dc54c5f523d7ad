//! A client's connections: opening them (TCP, TLS with ALPN `h2`, the server's first
//! SETTINGS), each on its own event loop thread, and choosing one for each request by the
//! shell's pool rules (`h2core::shell::pool`): a new connection at the server's
//! SETTINGS_MAX_CONCURRENT_STREAMS or after GOAWAY, requests waiting for the one being opened.

use crate::conn::Start;
use crate::event_loop::{system_clock, EventLoop};
use crate::io::Io;
use crate::remote::{Msg, PushSink, Remote, Role};
use crate::Body;
use bytes::BytesMut;
use h2_http::body::Blocking;
use h2_http::drive::Command;
use h2_http::handle::StreamCommand;
use h2_http::oneshot;
use h2_http::pool::{Choice, Member, Signal};
use h2_http::reply::{self, Pending, ReplyTx};
use h2_http::{Error, RequestOptions};
use h2core::shell::pool::{Slots, MAX_ATTEMPTS, OPEN_TIMEOUT};
use h2core::{Config, Connection, Header, StreamId};
use rustls::pki_types::ServerName;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

/// One connection of the pool.
#[derive(Clone)]
pub(crate) struct Handle {
    pub(crate) remote: Remote,
    pub(crate) slots: Arc<Slots>,
}

impl Handle {
    /// Sends `cmd` to the connection's loop and blocks until it answered.
    pub(crate) fn ask<T>(
        &self,
        (cmd, mut rx): (StreamCommand<Blocking>, oneshot::Receiver<Result<T, Error>>),
    ) -> Result<T, Error> {
        self.remote.command(None, Command::Stream(cmd))?;
        rx.wait().unwrap_or(Err(Error::ConnectionGone))
    }
}

impl Member for Handle {
    fn slots(&self) -> &Slots {
        &self.slots
    }
}

/// How connections of a pool are made.
pub(crate) enum Transport {
    /// HTTP/2 by prior knowledge (RFC 9113 §3.3).
    Cleartext,
    /// TLS, ALPN `h2` (RFC 9113 §3.2).
    Tls(Arc<rustls::ClientConfig>, ServerName<'static>),
}

pub(crate) struct Pool {
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) config: Config,
    pub(crate) transport: Transport,
    /// The connections, the counters, and what waiting requests block on.
    pub(crate) members: h2_http::pool::Pool<Handle>,
    pub(crate) pushes: PushSink,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Every handle and pending response is gone: close gracefully once the streams are
        // done (GOAWAY, RFC 9113 §6.8).
        for c in self.members.take_all() {
            let _ = c.remote.send(Msg::Shutdown);
        }
    }
}

impl Pool {
    pub(crate) fn new(addrs: Vec<SocketAddr>, config: Config, transport: Transport) -> Pool {
        Pool {
            addrs,
            config,
            transport,
            members: h2_http::pool::Pool::default(),
            pushes: PushSink::default(),
        }
    }

    pub(crate) fn signal(&self) -> &Arc<Signal> {
        self.members.signal()
    }

    pub(crate) fn scheme(&self) -> &'static str {
        match self.transport {
            Transport::Cleartext => "http",
            Transport::Tls(..) => "https",
        }
    }

    /// Opens a connection and waits for the server's SETTINGS, so its limits are known.
    pub(crate) fn open(&self) -> Result<Handle, Error> {
        let mut socket = connect_std(&self.addrs)?;
        let tls = match &self.transport {
            Transport::Cleartext => None,
            Transport::Tls(config, name) => Some(tls_handshake(&mut socket, config, name)?),
        };
        let conn = Connection::new(self.members.config(&self.config), Instant::now());
        let handle = spawn(nonblocking(socket)?, tls, BytesMut::new(), conn, self, None)?;
        wait_ready(&handle, self.signal())?;
        Ok(handle)
    }

    /// A connection with a slot reserved for one request: one with room, else the one being
    /// opened once it is ready, else a new one.
    pub(crate) fn pick(&self) -> Result<Handle, Error> {
        // Bounded: whoever opens gives up after its own timeouts and wakes us.
        let deadline = Instant::now() + 4 * OPEN_TIMEOUT;
        loop {
            match self.members.choose() {
                Choice::Use(conn) => return Ok(conn),
                Choice::Open(opening) => {
                    let conn = self.open()?;
                    opening.done(conn.clone());
                    return Ok(conn);
                }
                Choice::Wait(seen) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if !self.signal().wait_timeout(seen, left) {
                        return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
                    }
                }
            }
        }
    }

    /// Sends a request on a reserved slot; its response comes through the returned
    /// [`Pending`], which cancels the stream if dropped before the head.
    pub(crate) fn dispatch(
        &self,
        head: &[Header],
        mut body: Body,
        options: &RequestOptions,
    ) -> Result<Pending<Blocking>, Error> {
        // Bounded: a connection that is gone before taking the request is dropped from the
        // pool, so each round opens or finds another.
        for _ in 0..MAX_ATTEMPTS {
            let conn = self.pick()?;
            let remote = conn.remote.clone();
            let cancel = Box::new(move || {
                let _ = remote.command(None, Command::Abandoned);
            });
            let (reply, pending) = reply::channel(Some(cancel));
            let cmd = Command::Request {
                head: head.to_vec(),
                body,
                reply,
                options: options.clone(),
                reserved: true,
            };
            match conn.remote.try_command(cmd) {
                Ok(()) => return Ok(pending),
                Err(cmd) => {
                    conn.slots.release();
                    conn.slots.finish();
                    let Command::Request { body: back, .. } = *cmd else {
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
pub(crate) fn wait_ready(handle: &Handle, signal: &Signal) -> Result<(), Error> {
    let deadline = Instant::now() + OPEN_TIMEOUT;
    loop {
        let seen = signal.generation();
        if handle.slots.is_ready() {
            break;
        }
        if !signal.wait_timeout(seen, deadline.saturating_duration_since(Instant::now())) {
            let _ = handle.remote.send(Msg::Shutdown);
            return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
        }
    }
    if handle.slots.is_closing() {
        return Err(Error::ConnectionGone);
    }
    Ok(())
}

pub(crate) fn connect_std(addrs: &[SocketAddr]) -> Result<std::net::TcpStream, Error> {
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

pub(crate) fn resolve(addr: impl ToSocketAddrs) -> Result<Vec<SocketAddr>, Error> {
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
pub(crate) fn tls_handshake(
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

/// A connected socket as the loop drives it: non-blocking.
pub(crate) fn nonblocking(socket: std::net::TcpStream) -> Result<Box<dyn Io>, Error> {
    socket.set_nonblocking(true)?;
    Ok(Box::new(mio::net::TcpStream::from_std(socket)))
}

/// Starts the loop thread over `io`, already speaking HTTP/2 through `conn`, as a connection
/// of `pool` (not yet in its list).
pub(crate) fn spawn(
    io: Box<dyn Io>,
    tls: Option<rustls::Connection>,
    read_buf: BytesMut,
    conn: Connection,
    pool: &Pool,
    expect: Option<ReplyTx<Blocking>>,
) -> Result<Handle, Error> {
    let slots = Arc::new(Slots::new());
    let signal = pool.signal().clone();
    let wake = signal.clone();
    let role = Role::Client {
        slots: slots.clone(),
        wake: Arc::new(move || wake.notify()),
        pushes: pool.pushes.clone(),
        header_bytes: pool.members.header_bytes(),
    };
    let mut ev = EventLoop::new(pool.config.clone(), system_clock(), |_| role)?;
    ev.add(io, tls, read_buf, Start::Http2(Box::new(conn)))?;
    if let Some(reply) = expect {
        // Registered before the loop runs: the response may be among the first bytes.
        let cmd = Command::Expect {
            stream: StreamId::new(1),
            reply,
        };
        ev.message(Msg::Conn { key: None, cmd });
    }
    let handle = Handle {
        remote: ev.remote(),
        slots: slots.clone(),
    };
    // Counted until the loop ends, so `Client::close` can wait for it.
    let running = signal.running();
    std::thread::Builder::new()
        .name("h2-mio-client".into())
        .spawn(move || {
            if let Err(e) = ev.run() {
                tracing::debug!("client loop: {e}");
            }
            // However the loop ended, the pool must not wait for this connection.
            if slots.finish() {
                signal.notify();
            }
            drop(running);
        })?;
    Ok(handle)
}
