//! The server: one port for HTTP/2 by prior knowledge, HTTP/1.1 and `Upgrade: h2c`
//! (and, with TLS, ALPN's choice of `h2` or `http/1.1`).

use crate::body::Body;
use crate::driver::{Command, Driver, Handler, RoleState, Shared};
use crate::rt::{self, AsyncRead, AsyncWrite, Runtime};
use crate::{convert, Error};
use bytes::BytesMut;
use h2core::preface::{sniff, Sniff};
use h2core::{Config, Connection, StreamId};
use http::{Request, Response};
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot, watch, Notify};

/// Found in the extensions of a request that arrived over HTTP/1.1: how many bytes its head
/// took on the wire (request line, header section and the empty line that ends it), e.g. for a
/// proxy's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http1HeadLen(pub usize);

/// The handler's handle on its HTTP/2 stream, found in the request's extensions: push
/// responses (RFC 9113 §8.4) and send 1xx informational responses (§8.1) before the final one.
#[derive(Clone)]
pub struct StreamHandle {
    stream: StreamId,
    tx: mpsc::UnboundedSender<Command>,
}

impl StreamHandle {
    pub(crate) fn new(stream: StreamId, tx: mpsc::UnboundedSender<Command>) -> StreamHandle {
        StreamHandle { stream, tx }
    }

    /// Sends a 1xx response (e.g. 103 Early Hints) ahead of the final response.
    pub fn informational(&self, response: Response<()>) -> Result<(), Error> {
        self.tx
            .send(Command::Informational {
                stream: self.stream,
                head: convert::response_to_h2(&response),
            })
            .map_err(|_| Error::ConnectionGone)
    }

    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the promised
    /// stream. Fails when the client disabled push (SETTINGS_ENABLE_PUSH = 0).
    pub async fn push(&self, request: Request<()>, response: Response<Body>) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let head = convert::response_to_h2(&response);
        self.tx
            .send(Command::Push {
                parent: self.stream,
                request: convert::request_to_h2(&request, "http"),
                head,
                body: response.into_body(),
                tx,
            })
            .map_err(|_| Error::ConnectionGone)?;
        rx.await.map_err(|_| Error::ConnectionGone)?
    }
}

/// Turns a handler function into the boxed form the connection tasks share.
pub(crate) fn boxed<F, Fut>(handler: F) -> Handler
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(handler(req)))
}

/// Serves HTTP/2 on `io`, whose client preface may already be partly in `read_buf`.
pub fn handshake_with<R, IO>(
    io: IO,
    read_buf: BytesMut,
    config: Config,
    handler: Handler,
) -> Driver<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    server_driver(Connection::new(config, R::now()), io, read_buf, handler)
}

/// A server connection task for `conn` over `io`.
fn server_driver<R, IO>(
    conn: Connection,
    io: IO,
    read_buf: BytesMut,
    handler: Handler,
) -> Driver<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    // The user channel's sender is dropped at once: a server connection takes no user commands.
    let (_tx, rx) = mpsc::unbounded_channel();
    Driver::new(
        conn,
        io,
        read_buf,
        rx,
        RoleState::Server { handler },
        Shared::new(),
    )
}

/// Serves HTTP/2 on `io` after `101 Switching Protocols` (RFC 7540 §3.2): the upgrade request
/// (head `headers`, whole `body`) is stream 1; the client's preface may be in `read_buf`.
pub(crate) fn upgraded<R, IO>(
    io: IO,
    read_buf: BytesMut,
    config: Config,
    handler: Handler,
    settings: bytes::Bytes,
    headers: Vec<h2core::Header>,
    body: bytes::Bytes,
) -> Result<Driver<IO, R>, Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let conn =
        Connection::new_upgraded_server(config, R::now(), settings, headers).map_err(|e| {
            Error::Connection {
                reason: e.reason,
                remote: true,
                detail: e.detail.into(),
            }
        })?;
    let mut driver = server_driver(conn, io, read_buf, handler);
    driver.upgrade_body(body);
    Ok(driver)
}

/// Serves HTTP/2 (prior knowledge) on any transport: await the returned task.
pub fn handshake<R, IO, F, Fut>(io: IO, handler: F) -> Driver<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    handshake_with(io, BytesMut::new(), Config::server(), boxed(handler))
}

/// A listening server on runtime `R`.
pub struct Server<R: Runtime> {
    listener: R::TcpListener,
    config: Config,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: Option<Box<dyn Future<Output = ()> + Send + Unpin>>,
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
            config: Config::server(),
            tls: None,
            shutdown: None,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        R::local_addr(&self.listener)
    }

    /// Uses `config` (SETTINGS, limits, timeouts) for every connection.
    pub fn config(mut self, config: Config) -> Server<R> {
        self.config = config;
        self
    }

    /// Serves TLS with this rustls config; ALPN picks `h2` or `http/1.1` (both are offered if
    /// the config lists none).
    pub fn tls(mut self, config: Arc<tokio_rustls::rustls::ServerConfig>) -> Server<R> {
        self.tls = Some(tokio_rustls::TlsAcceptor::from(crate::tls::with_alpn(
            config,
        )));
        self
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

    /// Serves connections with `handler` until the shutdown signal, if any.
    ///
    /// Over HTTP/2 the handlers of one connection run inside its task, concurrently (one
    /// awaiting does not hold the others back): answering needs no task spawn. A handler that
    /// computes for long holds its connection meanwhile, so such work belongs on a spawned task
    /// or a blocking pool. A handler that panics gets its stream reset (INTERNAL_ERROR); the
    /// connection goes on.
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
                    let config = self.config.clone();
                    let stop = stop_rx.clone();
                    let tls = self.tls.clone();
                    let span = tracing::debug_span!("connection", %peer);
                    let task = tasks.start();
                    R::spawn(tracing::Instrument::instrument(async move {
                        let result = match tls {
                            None => serve_connection::<R, _>(socket, config, handler, stop).await,
                            Some(acceptor) => serve_tls::<R>(acceptor, socket, config, handler, stop).await,
                        };
                        if let Err(e) = result {
                            tracing::debug!("connection: {e}");
                        }
                        drop(task);
                    }, span));
                }
                _ = &mut signal => break,
            }
        }
        // Close the port now: a client connecting during the drain is refused at once rather
        // than queued in the backlog until every connection is done.
        drop(self.listener);
        let _ = stop_tx.send(true);
        tasks.all_done().await;
        Ok(())
    }
}

/// Counts the connection tasks a server spawned, so that `serve` returns only once every one
/// has finished its graceful shutdown.
#[derive(Default, Clone)]
struct Tasks(Arc<(AtomicUsize, Notify)>);

/// One running connection task; dropping it (the task ended, or panicked) counts it done.
struct TaskGuard(Tasks);

impl Tasks {
    fn start(&self) -> TaskGuard {
        self.0 .0.fetch_add(1, Ordering::AcqRel);
        TaskGuard(self.clone())
    }

    async fn all_done(&self) {
        loop {
            let notified = self.0 .1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0 .0.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if (self.0).0 .0.fetch_sub(1, Ordering::AcqRel) == 1 {
            (self.0).0 .1.notify_waiters();
        }
    }
}

/// What is left of `config.handshake_timeout` since `accepted`: the preface deadline counts
/// from the accept, so time spent before the core exists (sniffing the protocol, the TLS
/// handshake) is not granted twice.
fn handshake_left<R: Runtime>(mut config: Config, accepted: Instant) -> Config {
    let elapsed = R::now().saturating_duration_since(accepted);
    config.handshake_timeout = config.handshake_timeout.saturating_sub(elapsed);
    config
}

/// One accepted cleartext connection: HTTP/2 by prior knowledge, or HTTP/1.1.
async fn serve_connection<R, IO>(
    mut io: IO,
    config: Config,
    handler: Handler,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let accepted = R::now();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        match sniff(&buf) {
            Sniff::NeedMore => {
                let deadline = accepted + config.handshake_timeout;
                match rt::timeout_at::<R, _>(deadline, io.read_buf(&mut buf)).await {
                    Some(read) => {
                        if read? == 0 {
                            return Ok(());
                        }
                    }
                    // Absent preface: nothing said, so no protocol to answer in; close.
                    None if buf.is_empty() => return Ok(()),
                    // Slow preface: part of HTTP/2's, so the core says why, at once
                    // (GOAWAY SETTINGS_TIMEOUT, RFC 9113 §3.4).
                    None => {
                        let config = handshake_left::<R>(config, accepted);
                        return handshake_with::<R, _>(io, buf, config, handler).await;
                    }
                }
            }
            Sniff::Http2 => {
                let config = handshake_left::<R>(config, accepted);
                let mut driver = handshake_with::<R, _>(io, buf, config, handler);
                driver.shutdown_on(async move {
                    let _ = stop.wait_for(|s| *s).await;
                });
                return driver.await;
            }
            Sniff::Http1 => {
                return crate::http1::serve::<R, _>(io, buf, config, handler, stop, false).await;
            }
        }
    }
}

/// One accepted TLS connection: ALPN `h2` is HTTP/2 (RFC 9113 §3.2); anything else HTTP/1.1.
async fn serve_tls<R: Runtime>(
    acceptor: tokio_rustls::TlsAcceptor,
    socket: R::TcpStream,
    config: Config,
    handler: Handler,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    // A client that never completes the TLS handshake is dropped like an absent preface.
    let accepted = R::now();
    let deadline = accepted + config.handshake_timeout;
    let tls = match rt::timeout_at::<R, _>(deadline, acceptor.accept(socket)).await {
        Some(tls) => tls?,
        None => return Ok(()),
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(crate::tls::ALPN_H2);
    if h2 {
        let config = handshake_left::<R>(config, accepted);
        let mut driver = handshake_with::<R, _>(tls, BytesMut::new(), config, handler);
        driver.shutdown_on(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        driver.await
    } else {
        crate::http1::serve::<R, _>(tls, BytesMut::new(), config, handler, stop, true).await
    }
}
