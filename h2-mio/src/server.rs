//! The server: one event loop thread over every connection; one port for HTTP/2 by prior
//! knowledge, HTTP/1.1 and `Upgrade: h2c` (and, with TLS, ALPN's choice of `h2` or
//! `http/1.1`).

use crate::body::Body;
use crate::event_loop::{system_clock, EventLoop};
use crate::pool::Pool;
use crate::remote::{Dispatch, Key, Msg, Remote, Role};
use h2_http::Error;
use h2core::{Config, StreamId};
use http::{Request, Response};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{mpsc, Arc};

/// The handler's way to push responses (RFC 9113 §8.4), found in the extensions of a request
/// that arrived over HTTP/2.
#[derive(Clone)]
pub struct Pusher {
    remote: Remote,
    key: Key,
    stream: StreamId,
}

impl Pusher {
    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the
    /// promised stream; blocks until the loop did. Call it before returning the response of
    /// the request it came with. Fails when the client disabled push (SETTINGS_ENABLE_PUSH = 0).
    pub fn push(&self, request: Request<()>, response: Response<Body>) -> Result<(), Error> {
        let (reply, rx) = mpsc::channel();
        self.remote.send(Msg::Push {
            key: self.key,
            parent: self.stream,
            request: h2_http::request_to_h2(&request, "http"),
            response,
            reply,
        })?;
        rx.recv().map_err(|_| Error::ConnectionGone)?
    }
}

/// Stops a running server gracefully: no new connections, GOAWAY on every HTTP/2 connection
/// (RFC 9113 §6.8), and `serve` returns once all of them are closed.
#[derive(Clone)]
pub struct ShutdownHandle {
    remote: Remote,
}

impl ShutdownHandle {
    /// Starts the shutdown.
    pub fn shutdown(&self) {
        let _ = self.remote.send(Msg::Shutdown);
    }
}

/// A listening server.
pub struct Server {
    listener: mio::net::TcpListener,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    threads: usize,
    on_ready: Option<Box<dyn FnOnce(ShutdownHandle) + Send>>,
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
            threads: std::thread::available_parallelism().map_or(4, |n| n.get() * 2),
            on_ready: None,
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

    /// How many threads run handlers (default: twice the number of CPUs).
    pub fn handler_threads(mut self, n: usize) -> Server {
        self.threads = n.max(1);
        self
    }

    /// Calls `f` with a [`ShutdownHandle`] once the loop exists, before it serves.
    pub fn on_ready(mut self, f: impl FnOnce(ShutdownHandle) + Send + 'static) -> Server {
        self.on_ready = Some(Box::new(f));
        self
    }

    /// Serves connections with `handler` on this thread, until shut down. The handler runs on
    /// the handler threads when a request's head arrived; it reads the body as it arrives
    /// ([`Body::data`]) and returns a response whose body may be produced later from any
    /// thread ([`Body::channel`]). A body it drops unread is refused (RFC 9113 §8.1).
    pub fn serve<F>(self, handler: F) -> std::io::Result<()>
    where
        F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
    {
        let (handler, pool) = (Arc::new(handler), Pool::new(self.threads));
        let mut ev = EventLoop::new(self.config, system_clock(), |remote| Role::Server {
            dispatch: dispatch(handler, pool, remote.clone()),
        })?;
        if let Some(tls) = self.tls {
            ev.serve_tls(tls);
        }
        ev.listen(self.listener)?;
        if let Some(f) = self.on_ready {
            f(ShutdownHandle {
                remote: ev.remote(),
            });
        }
        ev.run()
    }
}

/// Runs the handler on the thread pool as soon as the request head arrived (a request over
/// HTTP/2 gets a [`Pusher`]); its body streams in meanwhile, its response comes back through
/// the loop's channel. A handler that panics answers 500.
fn dispatch<F>(handler: Arc<F>, pool: Pool, remote: Remote) -> Dispatch
where
    F: Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static,
{
    Arc::new(move |key: Key, stream: StreamId, mut req: Request<Body>| {
        if stream != StreamId::ZERO {
            let pusher = Pusher {
                remote: remote.clone(),
                key,
                stream,
            };
            req.extensions_mut().insert(pusher);
        }
        let (handler, remote) = (handler.clone(), remote.clone());
        pool.execute(move || {
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
