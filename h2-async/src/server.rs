//! The server: one port for HTTP/2 by prior knowledge, HTTP/1.1 and `Upgrade: h2c`
//! (and, with TLS, ALPN's choice of `h2` or `http/1.1`).

use crate::driver::Driver;
use crate::handler::{boxed, Handler};
use crate::rt::{self, AsyncRead, AsyncWrite, Runtime};
use crate::session::Start;
use crate::Body;
use h2_http::server::ServerOptions;
use h2_http::tasks::Tasks;
use h2_http::Error;
use h2core::shell::Accept;
use h2core::{Config, Connection};
use http::{Request, Response};
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use tokio::sync::watch;

pub use crate::handle::StreamHandle;
pub use h2_http::http1::Http1HeadLen;

/// Serves HTTP/2 (prior knowledge, RFC 9113 §3.4) on any transport: await the returned task.
pub fn handshake<R, IO, F, Fut>(io: IO, handler: F) -> Driver<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    handshake_with(io, Config::server(), handler)
}

/// As [`handshake`], with `config` (SETTINGS, limits, timeouts).
pub fn handshake_with<R, IO, F, Fut>(io: IO, config: Config, handler: F) -> Driver<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let conn = Connection::new(config, R::now());
    Driver::server(Start::Http2(conn), io, boxed(handler))
}

/// Stops a server gracefully: no new connections, GOAWAY on every connection (RFC 9113 §6.8),
/// and `serve` returns once all of them are closed. From [`Server::shutdown_handle`].
pub use h2_http::server::ShutdownHandle;

/// A listening server on runtime `R`.
pub struct Server<R: Runtime> {
    listener: R::TcpListener,
    /// Config, TLS, HTTP/2 only: their rules are the shared `ServerOptions`'.
    options: ServerOptions,
    shutdown: Option<Box<dyn Future<Output = ()> + Send + Unpin>>,
    handle: ShutdownHandle,
}

impl<R: Runtime> Server<R> {
    /// Binds `addr` (use port 0 for any free port, then [`Server::local_addr`]); a name is
    /// resolved and its first address taken.
    pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<Server<R>> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
        })?;
        Ok(Server {
            listener: R::bind(addr).await?,
            options: ServerOptions::new(),
            shutdown: None,
            handle: ShutdownHandle::default(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        R::local_addr(&self.listener)
    }

    /// Uses `config` (SETTINGS, limits, timeouts) for every connection.
    pub fn config(mut self, config: Config) -> Server<R> {
        self.options.set_config(config);
        self
    }

    /// Accepts extended CONNECT (RFC 8441): every connection announces
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, and a `CONNECT` with `:protocol` (e.g. a
    /// WebSocket, §5) reaches the handler with [`Protocol`](crate::Protocol) in its
    /// extensions; answer 200 and use the stream as an [`Upgraded`](crate::Upgraded). Without
    /// it, such a request is malformed and reset with PROTOCOL_ERROR (§3). Call after
    /// [`Server::config`], which replaces the SETTINGS. (hyperium h2's
    /// `server::Builder::enable_connect_protocol`.)
    pub fn enable_connect_protocol(mut self) -> Server<R> {
        self.options.enable_connect_protocol();
        self
    }

    /// Serves TLS with this rustls config; ALPN picks `h2` or `http/1.1` (both are offered if
    /// the config lists none).
    pub fn tls(mut self, config: Arc<tokio_rustls::rustls::ServerConfig>) -> Server<R> {
        self.options.set_tls(config);
        self
    }

    /// Serves HTTP/2 only: no HTTP/1.1 on this port, whatever a client sends first is read as
    /// the HTTP/2 preface, so anything else is a PROTOCOL_ERROR connection error (RFC 9113
    /// §3.4); over TLS, HTTP/2 whatever ALPN chose.
    pub fn http2_only(mut self) -> Server<R> {
        self.options.set_http2_only();
        self
    }

    /// A handle that stops [`Server::serve`] gracefully, from any task or thread: no new
    /// connections, GOAWAY on every connection (RFC 9113 §6.8), and `serve` returns once all
    /// are closed.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// When `signal` completes, stop accepting and shut every connection down gracefully
    /// (GOAWAY twice, RFC 9113 §6.8), then return from `serve`.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Server<R> {
        self.shutdown = Some(Box::new(Box::pin(signal)));
        self
    }

    /// Serves any `tower::Service` (an axum `Router`, a tonic service, a tower-http stack):
    /// each request is a `Request<Body>`, the response body any `http_body::Body`, streamed
    /// under flow control ([`Body::wrap`]). A service that is not ready or fails answers 500
    /// (the error is logged). Each request's [`StreamHandle`] is in its
    /// extensions as well (axum and tower layers replace the body, where it travels
    /// otherwise): `req.extensions().get::<StreamHandle>()`, or axum's `Extension`.
    pub async fn serve_service<S, B>(self, service: S) -> std::io::Result<()>
    where
        S: tower_service::Service<Request<Body>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: std::fmt::Display,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.serve(move |mut req| {
            let mut service = service.clone();
            if let Some(handle) = StreamHandle::of(&req) {
                req.extensions_mut().insert(handle);
            }
            async move {
                // Errors become text at once, so the future is Send whatever the service's
                // error type is.
                let ready = std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(|e| e.to_string());
                let answered = match ready {
                    Ok(()) => service.call(req).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match answered {
                    Ok(response) => response.map(Body::wrap),
                    Err(e) => {
                        tracing::debug!("service: {e}");
                        let mut r = Response::new(Body::empty());
                        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                        r
                    }
                }
            }
        })
        .await
    }

    /// Serves connections with `handler` until shut down ([`Server::shutdown_handle`],
    /// [`Server::with_graceful_shutdown`]).
    ///
    /// The handlers of one connection run inside its task (over HTTP/2 concurrently: one
    /// awaiting does not hold the others back): answering needs no task spawn. A handler that
    /// computes for long holds its connection meanwhile, so such work belongs on a spawned task
    /// or a blocking pool. A handler that panics gets its stream reset (INTERNAL_ERROR) and the
    /// connection goes on; over HTTP/1.1 it is answered 500 and the connection closes.
    pub async fn serve<F, Fut>(self, handler: F) -> std::io::Result<()>
    where
        F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let handler = boxed(handler);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut signal = self
            .shutdown
            .unwrap_or_else(|| Box::new(Box::pin(std::future::pending())));
        let tasks = Tasks::default();
        let (asked, mut requested) = watch::channel(false);
        self.handle.on_shutdown(move || {
            asked.send_replace(true);
        });
        let acceptor = self
            .options
            .tls()
            .cloned()
            .map(tokio_rustls::TlsAcceptor::from);
        loop {
            tokio::select! {
                accepted = R::accept(&self.listener) => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::debug!("accept: {e}");
                            continue;
                        }
                    };
                    let handler = handler.clone();
                    let stop = stop_rx.clone();
                    let tls = acceptor.clone();
                    // What the connection speaks is decided from the accept on (`Accept`).
                    let accept = self.options.accept(R::now());
                    let span = tracing::debug_span!("connection", %peer);
                    let task = tasks.start();
                    R::spawn(tracing::Instrument::instrument(async move {
                        let result = match tls {
                            None => drive(Driver::<_, R>::server(Start::Accept(accept), socket, handler), stop).await,
                            Some(acceptor) => serve_tls::<R>(acceptor, socket, accept, handler, stop).await,
                        };
                        if let Err(e) = result {
                            tracing::debug!("connection: {e}");
                        }
                        drop(task);
                    }, span));
                }
                _ = &mut signal => break,
                _ = requested.wait_for(|stop| *stop) => break,
            }
        }
        // Close the port now: a client connecting during the drain is refused at once rather
        // than queued in the backlog until every connection is done.
        drop(self.listener);
        let _ = stop_tx.send(true);
        std::future::poll_fn(|cx| tasks.poll_all_done(cx)).await;
        Ok(())
    }
}

/// Drives an accepted connection until it ends, shutting it down gracefully when the server
/// stops.
async fn drive<R, IO>(
    mut driver: Driver<IO, R>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    driver.shutdown_on(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    driver.await
}

/// One accepted TLS connection: the handshake within the accept deadline, then ALPN decides
/// (RFC 9113 §3.2, `Accept`).
async fn serve_tls<R: Runtime>(
    acceptor: tokio_rustls::TlsAcceptor,
    socket: R::TcpStream,
    accept: Accept,
    handler: Handler,
    stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    // A client that never completes the TLS handshake is dropped like an absent preface.
    let deadline = accept.poll_timeout().expect("undecided");
    let tls = match rt::timeout_at::<R, _>(deadline, acceptor.accept(socket)).await {
        Some(tls) => tls?,
        None => return Ok(()),
    };
    // Copied out: the stream moves into the task that serves it.
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let driver = Driver::<_, R>::tls(accept, tls, handler, alpn.as_deref());
    drive(driver, stop).await
}
