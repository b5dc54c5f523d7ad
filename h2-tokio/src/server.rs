//! The server: one port for HTTP/2 by prior knowledge, HTTP/1.1 and `Upgrade: h2c`
//! (and, with TLS, ALPN's choice of `h2` or `http/1.1`).

use crate::body::Body;
use crate::driver::{Command, Driver, Handler, RoleState, Shared};
use crate::{convert, Error};
use bytes::BytesMut;
use h2core::preface::{sniff, Sniff};
use h2core::{Config, Connection, StreamId};
use http::{Request, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

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
pub fn handshake_with<IO>(
    io: IO,
    read_buf: BytesMut,
    config: Config,
    handler: Handler,
) -> Driver<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let conn = Connection::new(config, crate::driver::now());
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
pub(crate) fn upgraded<IO>(
    io: IO,
    read_buf: BytesMut,
    config: Config,
    handler: Handler,
    settings: bytes::Bytes,
    headers: Vec<h2core::Header>,
    body: bytes::Bytes,
) -> Result<Driver<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let conn = Connection::new_upgraded_server(config, crate::driver::now(), settings, headers)
        .map_err(|e| Error::Connection {
            reason: e.reason,
            remote: true,
            detail: e.detail.into(),
        })?;
    let (_tx, rx) = mpsc::unbounded_channel();
    let mut driver = Driver::new(
        conn,
        io,
        read_buf,
        rx,
        RoleState::Server { handler },
        Shared::new(),
    );
    driver.upgrade_body(body);
    Ok(driver)
}

/// Serves HTTP/2 (prior knowledge) on any transport: await the returned task.
pub fn handshake<IO, F, Fut>(io: IO, handler: F) -> Driver<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    handshake_with(io, BytesMut::new(), Config::server(), boxed(handler))
}

/// A listening server.
pub struct Server {
    listener: TcpListener,
    config: Config,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: Option<Box<dyn Future<Output = ()> + Send + Unpin>>,
}

impl Server {
    /// Binds `addr` (use port 0 for any free port, then [`Server::local_addr`]).
    pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr).await?,
            config: Config::server(),
            tls: None,
            shutdown: None,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Uses `config` (SETTINGS, limits, timeouts) for every connection.
    pub fn config(mut self, config: Config) -> Server {
        self.config = config;
        self
    }

    /// Serves TLS with this rustls config; ALPN picks `h2` or `http/1.1` (both are offered if
    /// the config lists none).
    pub fn tls(mut self, config: Arc<tokio_rustls::rustls::ServerConfig>) -> Server {
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
    ) -> Server {
        self.shutdown = Some(Box::new(Box::pin(signal)));
        self
    }

    /// Serves connections with `handler` until the shutdown signal, if any.
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
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::debug!("accept: {e}");
                            continue;
                        }
                    };
                    let _ = socket.set_nodelay(true);
                    let handler = handler.clone();
                    let config = self.config.clone();
                    let stop = stop_rx.clone();
                    let tls = self.tls.clone();
                    let span = tracing::debug_span!("connection", %peer);
                    tasks.spawn(tracing::Instrument::instrument(async move {
                        let result = match tls {
                            None => serve_connection(socket, config, handler, stop).await,
                            Some(acceptor) => serve_tls(acceptor, socket, config, handler, stop).await,
                        };
                        if let Err(e) = result {
                            tracing::debug!("connection: {e}");
                        }
                    }, span));
                }
                _ = &mut signal => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Close the port now: a client connecting during the drain is refused at once rather
        // than queued in the backlog until every connection is done.
        drop(self.listener);
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        Ok(())
    }
}

/// What is left of `config.handshake_timeout` since `accepted`: the preface deadline counts
/// from the accept, so time spent before the core exists (sniffing the protocol, the TLS
/// handshake) is not granted twice.
fn handshake_left(mut config: Config, accepted: Instant) -> Config {
    config.handshake_timeout = config.handshake_timeout.saturating_sub(accepted.elapsed());
    config
}

/// One accepted cleartext connection: HTTP/2 by prior knowledge, or HTTP/1.1.
async fn serve_connection<IO>(
    mut io: IO,
    config: Config,
    handler: Handler,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let accepted = Instant::now();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        match sniff(&buf) {
            Sniff::NeedMore => {
                let deadline = accepted + config.handshake_timeout;
                match tokio::time::timeout_at(deadline, io.read_buf(&mut buf)).await {
                    Ok(read) => {
                        if read? == 0 {
                            return Ok(());
                        }
                    }
                    // Absent preface: nothing said, so no protocol to answer in; close.
                    Err(_) if buf.is_empty() => return Ok(()),
                    // Slow preface: part of HTTP/2's, so the core says why, at once
                    // (GOAWAY SETTINGS_TIMEOUT, RFC 9113 §3.4).
                    Err(_) => {
                        let config = handshake_left(config, accepted);
                        return handshake_with(io, buf, config, handler).await;
                    }
                }
            }
            Sniff::Http2 => {
                let config = handshake_left(config, accepted);
                let mut driver = handshake_with(io, buf, config, handler);
                driver.shutdown_on(async move {
                    let _ = stop.wait_for(|s| *s).await;
                });
                return driver.await;
            }
            Sniff::Http1 => {
                return crate::http1::serve(io, buf, config, handler, stop).await;
            }
        }
    }
}

/// One accepted TLS connection: ALPN `h2` is HTTP/2 (RFC 9113 §3.2); anything else HTTP/1.1.
async fn serve_tls(
    acceptor: tokio_rustls::TlsAcceptor,
    socket: tokio::net::TcpStream,
    config: Config,
    handler: Handler,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Error> {
    // A client that never completes the TLS handshake is dropped like an absent preface.
    let accepted = Instant::now();
    let tls = match tokio::time::timeout(config.handshake_timeout, acceptor.accept(socket)).await {
        Ok(tls) => tls?,
        Err(_) => return Ok(()),
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(crate::tls::ALPN_H2);
    if h2 {
        let config = handshake_left(config, accepted);
        let mut driver = handshake_with(tls, BytesMut::new(), config, handler);
        driver.shutdown_on(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        driver.await
    } else {
        crate::http1::serve(tls, BytesMut::new(), config, handler, stop).await
    }
}
