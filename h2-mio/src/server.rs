//! The server: one event loop thread over every connection; one port for HTTP/2 by prior
//! knowledge, HTTP/1.1 and `Upgrade: h2c` (and, with TLS, ALPN's choice of `h2` or
//! `http/1.1`).

use crate::conn::Start;
use crate::event_loop::{system_clock, EventLoop};
use crate::io::Io;
use crate::remote::{Dispatch, Key, Msg, Remote, Role};
use crate::workers::Workers;
use crate::Body;
use bytes::BytesMut;
use h2core::{Config, Connection, StreamId};
use http::{Request, Response};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

/// The handler's handle on its stream, found in the request's extensions: 1xx responses
/// before the final one and server push, blocking (see `h2_http::handle`).
pub type StreamHandle = h2_http::handle::StreamHandle<h2_http::body::Blocking>;

/// Stops a server gracefully: no new connections, GOAWAY on every HTTP/2 connection (RFC 9113
/// §6.8), and `serve` returns once all of them are closed. From [`Server::shutdown_handle`];
/// a shutdown asked for before `serve` runs makes `serve` return at once.
#[derive(Clone, Default)]
pub struct ShutdownHandle {
    /// Whether a shutdown was asked for, and the loop once `serve` runs it.
    state: Arc<Mutex<(bool, Option<Remote>)>>,
}

impl ShutdownHandle {
    /// Starts the shutdown; returns at once (`serve` returns when it is done).
    pub fn shutdown(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = true;
        if let Some(remote) = &state.1 {
            let _ = remote.send(Msg::Shutdown);
        }
    }

    /// Gives the running loop to the handle; true if a shutdown was already asked for.
    fn attach(&self, remote: Remote) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = Some(remote);
        state.0
    }
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").finish_non_exhaustive()
    }
}

/// A listening server.
pub struct Server {
    listener: mio::net::TcpListener,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    http2_only: bool,
    threads: usize,
    shutdown: ShutdownHandle,
}

impl Server {
    /// Binds `addr` (use port 0 for any free port, then [`Server::local_addr`]).
    pub fn bind(addr: impl ToSocketAddrs) -> std::io::Result<Server> {
        let std = std::net::TcpListener::bind(addr)?;
        std.set_nonblocking(true)?;
        Ok(Server {
            listener: mio::net::TcpListener::from_std(std),
            config: Config::server(),
            tls: None,
            http2_only: false,
            threads: std::thread::available_parallelism().map_or(4, |n| n.get() * 2),
            shutdown: ShutdownHandle::default(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Uses `config` (SETTINGS, limits, timeouts) for every HTTP/2 connection.
    pub fn config(mut self, config: Config) -> Server {
        self.config = config;
        self
    }

    /// Serves TLS with this rustls config instead of cleartext: ALPN `h2` selects HTTP/2 (RFC
    /// 9113 §3.2), `http/1.1` or no ALPN the HTTP/1.1 path, with the same handler. Both are
    /// offered if the config lists none ([`crate::tls::with_alpn`]). The handshake counts
    /// against `Config::handshake_timeout`, from the accept: a client that has not finished it
    /// and sent its preface by then is dropped.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Server {
        self.tls = Some(h2_http::tls::with_alpn(config));
        self
    }

    /// Serves HTTP/2 only: no HTTP/1.1 on this port, whatever a client sends first is read as
    /// the HTTP/2 preface, so anything else is a PROTOCOL_ERROR connection error (RFC 9113
    /// §3.4); over TLS, HTTP/2 whatever ALPN chose.
    pub fn http2_only(mut self) -> Server {
        self.http2_only = true;
        self
    }

    /// How many threads run handlers (default: twice the number of CPUs).
    pub fn handler_threads(mut self, n: usize) -> Server {
        self.threads = n.max(1);
        self
    }

    /// A handle that stops [`Server::serve`] gracefully, from any thread: no new connections,
    /// GOAWAY on every connection (RFC 9113 §6.8), and `serve` returns once all are closed.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Serves connections with `handler` on this thread, until shut down
    /// ([`Server::shutdown_handle`]). The handler runs on
    /// the handler threads when a request's head arrived; it reads the body as it arrives
    /// ([`Body::data`]) and returns a response whose body may be produced later from any
    /// thread ([`Body::channel`]). A body it drops unread is refused (RFC 9113 §8.1).
    pub fn serve<F>(self, handler: F) -> std::io::Result<()>
    where
        F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
    {
        let (handler, workers) = (Arc::new(handler), Workers::new(self.threads));
        let mut ev = EventLoop::new(self.config, system_clock(), |remote| Role::Server {
            dispatch: dispatch(handler, workers, remote.clone()),
        })?;
        if let Some(tls) = self.tls {
            ev.serve_tls(tls);
        }
        if self.http2_only {
            ev.serve_http2_only();
        }
        ev.listen(self.listener)?;
        if self.shutdown.attach(ev.remote()) {
            ev.message(Msg::Shutdown);
        }
        ev.run()
    }
}

/// Serves HTTP/2 (prior knowledge, RFC 9113 §3.4) on `io`, a non-blocking transport, with
/// `handler` on a few handler threads; blocks until the connection is closed.
pub fn handshake<F>(io: impl Io + 'static, handler: F) -> std::io::Result<()>
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    handshake_with(io, Config::server(), handler)
}

/// As [`handshake`], with `config` (SETTINGS, limits, timeouts).
pub fn handshake_with<F>(io: impl Io + 'static, config: Config, handler: F) -> std::io::Result<()>
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    let clock = system_clock();
    let conn = Connection::new(config.clone(), clock());
    let workers = Workers::new(4);
    let handler = Arc::new(handler);
    let mut ev = EventLoop::new(config, clock, |remote| Role::Server {
        dispatch: dispatch(handler, workers, remote.clone()),
    })?;
    ev.add(
        Box::new(io),
        None,
        BytesMut::new(),
        Start::Http2(Box::new(conn)),
    )?;
    ev.run()
}

/// Runs the handler on the thread pool as soon as the request head arrived (with its
/// [`StreamHandle`], and its [`Deadline`](crate::Deadline) when it has a `grpc-timeout`); its
/// body streams in meanwhile, its response comes back through the loop's channel. A handler
/// that panics answers 500.
fn dispatch<F>(handler: Arc<F>, workers: Workers, remote: Remote) -> Dispatch
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    Arc::new(move |key: Key, stream: StreamId, mut req: Request<Body>| {
        crate::Deadline::mark(&mut req, std::time::Instant::now());
        let (handler, remote) = (handler.clone(), remote.clone());
        workers.execute(move || {
            let run = std::panic::AssertUnwindSafe(|| handler(req));
            let response = std::panic::catch_unwind(run).unwrap_or_else(|_| {
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
    })
}
