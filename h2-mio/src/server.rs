//! The server: event loop threads (one per core by default), each over the connections dealt
//! to it; one port for HTTP/2 by prior knowledge, HTTP/1.1 and
//! `Upgrade: h2c` (and, with TLS, ALPN's choice of `h2` or `http/1.1`).

use crate::conn::Start;
use crate::event_loop::{system_clock, EventLoop};
use crate::io::Io;
use crate::remote::{Dispatch, Key, Msg, Remote, Role, ON_LOOP};
use crate::workers::Workers;
use crate::Body;
use bytes::BytesMut;
use h2_http::drive::Command;
use h2_http::server::ServerOptions;
use h2core::{Config, Connection, StreamId};
use http::{Request, Response};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

/// The handler's handle on its stream, `StreamHandle::of(&req)`: 1xx responses before the
/// final one and server push, blocking (see `h2_http::handle`).
pub type StreamHandle = h2_http::handle::StreamHandle<h2_http::body::Blocking>;

/// Stops a server gracefully: no new connections, GOAWAY on every HTTP/2 connection (RFC 9113
/// §6.8), and `serve` returns once all of them are closed. From [`Server::shutdown_handle`].
pub use h2_http::server::ShutdownHandle;

/// A listening server.
pub struct Server {
    listener: std::net::TcpListener,
    /// Config, TLS, HTTP/2 only: their rules are the shared `ServerOptions`'.
    options: ServerOptions,
    threads: usize,
    loops: usize,
    shutdown: ShutdownHandle,
}

impl Server {
    /// Binds `addr` (use port 0 for any free port, then [`Server::local_addr`]).
    pub fn bind(addr: impl ToSocketAddrs) -> std::io::Result<Server> {
        let std = std::net::TcpListener::bind(addr)?;
        std.set_nonblocking(true)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Server {
            listener: std,
            options: ServerOptions::new(),
            threads: cores * 2,
            loops: cores,
            shutdown: ShutdownHandle::default(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Uses `config` (SETTINGS, limits, timeouts) for every HTTP/2 connection.
    pub fn config(mut self, config: Config) -> Server {
        self.options.set_config(config);
        self
    }

    /// Accepts extended CONNECT (RFC 8441): every HTTP/2 connection announces
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, and a `CONNECT` with `:protocol` reaches the
    /// handler with [`Protocol`](crate::Protocol) in its extensions; it answers 200 with a
    /// [`Body::channel`] and runs an [`Upgraded`](crate::Upgraded) (blocking `Read + Write`)
    /// on a thread. Without it such a request is reset with PROTOCOL_ERROR (§3). Call after
    /// [`Server::config`], which replaces the SETTINGS.
    pub fn enable_connect_protocol(mut self) -> Server {
        self.options.enable_connect_protocol();
        self
    }

    /// Serves TLS with this rustls config instead of cleartext: ALPN `h2` selects HTTP/2 (RFC
    /// 9113 §3.2), `http/1.1` or no ALPN the HTTP/1.1 path, with the same handler. Both are
    /// offered if the config lists none ([`crate::tls::with_alpn`]). The handshake counts
    /// against `Config::handshake_timeout`, from the accept: a client that has not finished it
    /// and sent its preface by then is dropped.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Server {
        self.options.set_tls(config);
        self
    }

    /// Serves HTTP/2 only: no HTTP/1.1 on this port, whatever a client sends first is read as
    /// the HTTP/2 preface, so anything else is a PROTOCOL_ERROR connection error (RFC 9113
    /// §3.4); over TLS, HTTP/2 whatever ALPN chose.
    pub fn http2_only(mut self) -> Server {
        self.options.set_http2_only();
        self
    }

    /// How many threads run handlers (default: twice the number of CPUs). `0` runs each
    /// handler on its connection's event loop thread as the request head arrives: no thread
    /// hop and no channel, the fastest for handlers that answer at once (a response whose body
    /// is whole, or streamed from elsewhere: [`Body::chunks`], a [`Body::channel`] fed by a
    /// thread of its own, the request body itself). Such a handler must not block: while it
    /// runs, no connection of its loop moves, so reading a request body to its end would wait
    /// for ever; [`StreamHandle::push`](h2_http::handle::StreamHandle::push) and
    /// `connection_info` fail at once there, saying so.
    pub fn handler_threads(mut self, n: usize) -> Server {
        self.threads = n;
        self
    }

    /// How many event loop threads serve connections (default: the number of CPUs; at least
    /// one). The first accepts and deals connections round-robin; each loop owns the
    /// connections it was dealt, so a connection's work stays on one thread and the loops
    /// spread over the cores.
    pub fn event_loops(mut self, n: usize) -> Server {
        self.loops = n.max(1);
        self
    }

    /// A handle that stops [`Server::serve`] gracefully, from any thread: no new connections,
    /// GOAWAY on every connection (RFC 9113 §6.8), and `serve` returns once all are closed.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Serves connections with `handler` until shut down ([`Server::shutdown_handle`]),
    /// on this thread and `event_loops - 1` more. The handler runs when a request's head
    /// arrived, on the handler threads (or its loop's thread: [`Server::handler_threads`]); it
    /// reads the body as it arrives ([`Body::data`]) and returns a response whose body may be
    /// produced later from any thread ([`Body::channel`]). A body it drops unread is refused
    /// (RFC 9113 §8.1).
    pub fn serve<F>(self, handler: F) -> std::io::Result<()>
    where
        F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        let workers = (self.threads > 0).then(|| Workers::new(self.threads));
        let mut loops = Vec::new();
        for _ in 0..self.loops {
            let mut ev = EventLoop::new(system_clock(), |remote| Role::Server {
                dispatch: dispatch(handler.clone(), workers.clone(), remote.clone()),
            })?;
            ev.accept_with(self.options.clone());
            ev.adopt();
            loops.push(ev);
        }
        // The first loop accepts and deals the connections round-robin: every loop gets its
        // share, and a connection's work stays on the one thread that took it.
        let peers = loops[1..].iter().map(EventLoop::remote).collect();
        loops[0].share_with(peers);
        loops[0].listen(mio::net::TcpListener::from_std(self.listener))?;
        for ev in &loops {
            let remote = ev.remote();
            self.shutdown.on_shutdown(move || {
                let _ = remote.send(Msg::Shutdown);
            });
        }
        let mut first = loops.remove(0);
        let others: Vec<_> = loops
            .into_iter()
            .enumerate()
            .map(|(i, mut ev)| {
                std::thread::Builder::new()
                    .name(format!("h2-mio-loop-{}", i + 1))
                    .spawn(move || ev.run())
            })
            .collect::<std::io::Result<_>>()?;
        let mut result = first.run();
        for thread in others {
            let ended = thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("loop panicked")));
            result = result.and(ended);
        }
        result
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
    let workers = Some(Workers::new(4));
    let handler = Arc::new(handler);
    let mut ev = EventLoop::new(clock, |remote| Role::Server {
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

/// Runs the handler as soon as the request head arrived (with its [`StreamHandle`], and its
/// [`Deadline`](crate::Deadline) when it has a `grpc-timeout`), its body streaming in
/// meanwhile: on the loop's own thread without `workers`, its response
/// returned at once; else on the thread pool, its response coming back through the loop's
/// channel. A handler that panics answers 500.
fn dispatch<F>(handler: Arc<F>, workers: Option<Workers>, remote: Remote) -> Dispatch
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    let answer = move |handler: &F, req| {
        let run = std::panic::AssertUnwindSafe(|| handler(req));
        std::panic::catch_unwind(run).unwrap_or_else(|_| {
            let mut r = Response::new(Body::from("handler panicked\n"));
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    };
    let Some(workers) = workers else {
        return Arc::new(move |_, _, req| {
            ON_LOOP.set(true);
            let response = answer(&handler, req);
            ON_LOOP.set(false);
            Some(response)
        });
    };
    Arc::new(move |key: Key, stream: StreamId, req: Request<Body>| {
        let (handler, remote) = (handler.clone(), remote.clone());
        workers.execute(move || {
            let response = answer(&handler, req);
            let _ = remote.command(Some(key), Command::Respond { stream, response });
        });
        None
    })
}
