//! A client's connections as this adapter makes them: TCP, TLS with ALPN `h2` (handshaken
//! blocking, before the loop takes the socket: `h2_http::std_io`, `h2_http::tls`), each
//! connection on its own event loop thread.
//! Which connection takes a request, the waits and the retries are `h2_http::client`'s.

use crate::conn::Start;
use crate::event_loop::{system_clock, EventLoop};
use crate::io::Io;
use crate::remote::{Msg, Remote, Role};
use bytes::BytesMut;
use h2_http::body::Blocking;
use h2_http::client::{Conn, Connector, Membership};
use h2_http::drive::Command;
use h2_http::pool::{Member, Signal};
use h2_http::reply::ReplyTx;
use h2_http::Error;
use h2_http::{std_io, tls};
use h2core::shell::pool::Slots;
use h2core::{Config, Connection, StreamId};
use rustls::pki_types::ServerName;
use std::future::{ready, Future};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// One connection of a client: its loop and its request slots.
#[derive(Clone)]
pub(crate) struct Handle {
    remote: Remote,
    slots: Arc<Slots>,
}

impl Member for Handle {
    fn slots(&self) -> &Slots {
        &self.slots
    }
}

impl Conn<Blocking> for Handle {
    fn send(&self, cmd: Command<Blocking>) -> Result<(), Command<Blocking>> {
        self.remote.try_command(cmd).map_err(|cmd| *cmd)
    }

    fn shutdown(&self) {
        let _ = self.remote.send(Msg::Shutdown);
    }
}

/// How connections of a client are made.
pub(crate) enum Transport {
    /// HTTP/2 by prior knowledge (RFC 9113 §3.3).
    Cleartext,
    /// TLS, ALPN `h2` (RFC 9113 §3.2).
    Tls(Arc<rustls::ClientConfig>, ServerName<'static>),
}

/// Opens a client's connections to `addrs`, blocking the caller's thread meanwhile: the
/// client's futures run on it (`h2_http::block::block_on`).
pub(crate) struct Dialer {
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) transport: Transport,
}

impl Dialer {
    fn open_now(&self, config: Config, member: Membership<Blocking>) -> Result<Handle, Error> {
        let mut socket = std_io::connect(&self.addrs)?;
        let tls = match &self.transport {
            Transport::Cleartext => None,
            Transport::Tls(config, name) => {
                let session = tls::client_handshake(&mut socket, config, name)?;
                Some(rustls::Connection::Client(session))
            }
        };
        let conn = Connection::new(config, Instant::now());
        spawn(
            nonblocking(socket)?,
            tls,
            BytesMut::new(),
            conn,
            member,
            None,
        )
    }
}

impl Connector for Dialer {
    type Mode = Blocking;
    type Conn = Handle;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn open(
        &self,
        config: Config,
        member: Membership<Blocking>,
    ) -> impl Future<Output = Result<Handle, Error>> + Send {
        ready(self.open_now(config, member))
    }

    fn changed(
        &self,
        signal: &Signal,
        seen: u64,
        deadline: Instant,
    ) -> impl Future<Output = bool> + Send {
        let left = deadline.saturating_duration_since(Instant::now());
        ready(signal.wait_timeout(seen, left))
    }

    fn scheme(&self) -> &'static str {
        match self.transport {
            Transport::Cleartext => "http",
            Transport::Tls(..) => "https",
        }
    }

    /// A blocking caller keeps a whole body, to send it again even after it went out.
    fn keeps_whole_bodies(&self) -> bool {
        true
    }
}

/// A connected socket as the loop drives it: non-blocking.
pub(crate) fn nonblocking(socket: std::net::TcpStream) -> Result<Box<dyn Io>, Error> {
    socket.set_nonblocking(true)?;
    Ok(Box::new(mio::net::TcpStream::from_std(socket)))
}

/// Starts the loop thread over `io`, already speaking HTTP/2 through `conn`, as a member of
/// a client (not yet taking its requests); `expect` takes stream 1's response (an upgrade).
pub(crate) fn spawn(
    io: Box<dyn Io>,
    tls: Option<rustls::Connection>,
    read_buf: BytesMut,
    conn: Connection,
    member: Membership<Blocking>,
    expect: Option<ReplyTx<Blocking>>,
) -> Result<Handle, Error> {
    let slots = Arc::new(Slots::new());
    let role = Role::Client {
        slots: slots.clone(),
        wake: member.wake(),
        pushes: member.pushes,
        header_bytes: member.header_bytes,
    };
    let mut ev = EventLoop::new(system_clock(), |_| role)?;
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
    let (signal, running) = (member.signal, member.running);
    std::thread::Builder::new()
        .name("h2-mio-client".into())
        .spawn(move || {
            if let Err(e) = ev.run() {
                tracing::debug!("client loop: {e}");
            }
            // However the loop ended, the client must not wait for this connection.
            if slots.finish() {
                signal.notify();
            }
            drop(running);
        })?;
    Ok(handle)
}
