//! The client: requests over HTTP/2 by prior knowledge (or after `Upgrade: h2c`), many at once
//! on one connection, a new connection when the server's SETTINGS_MAX_CONCURRENT_STREAMS is
//! reached, refused requests retried (RFC 9113 §8.7), pushed responses delivered to the user.
//! The client's rules are `h2_http::client`'s, the same as every adapter's; here is what a
//! runtime adds: a connection is a task ([`Driver`]) reached through a channel, opened over
//! the runtime's TCP (and TLS), and waits use the runtime's timer.

use crate::driver::Driver;
use crate::handle::Pushes;
use crate::rt::{self, AsyncRead, AsyncWrite, Runtime};
use crate::session::{Command, RoleState};
use crate::shared::Shared;
pub use crate::websocket::{websocket_http1, websocket_http1_on};
use crate::Body;
use bytes::BytesMut;
use h2_http::body::Async;
use h2_http::client::{self as shared, Conn, Connector, Membership};
use h2_http::h2c::H2cStart;
use h2_http::handle::{ConnectionInfo, StreamCommand};
use h2_http::pool::{Member, Running, Signal};
use h2_http::reply::{self, Reply};
use h2_http::{Error, RequestOptions};
use h2core::shell::pool::{Slots, OPEN_TIMEOUT};
use h2core::{Config, Connection};
use http::{Request, Response};
use std::future::poll_fn;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::ServerName;

/// A handle to one HTTP/2 connection; cheap to clone. The connection closes gracefully (GOAWAY,
/// then draining) when every handle is dropped and its streams are done.
#[derive(Clone)]
pub struct SendRequest {
    tx: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

impl SendRequest {
    /// Sends `req` and waits for the response head; the body streams afterwards. Dropping
    /// the returned future before the head arrives resets the stream with CANCEL (RFC 9113
    /// §8.1), as does dropping the response's body before its end.
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        let head = h2_http::request_to_h2(&req, "http");
        let options = RequestOptions::of(&req);
        shared::send_on(self, head, req.into_body(), options).await
    }

    /// Measures a round trip with PING (RFC 9113 §6.7).
    pub async fn ping(&self) -> Result<Duration, Error> {
        shared::ask(self, StreamCommand::ping()).await
    }

    /// The connection's counters and the server's SETTINGS in force.
    pub async fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        shared::ask(self, StreamCommand::info()).await
    }

    /// Starts a graceful close: GOAWAY, let streams finish, drain.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
    }

    /// Closes the connection gracefully and waits until it has ended: see [`Client::close`].
    pub async fn close(&self) {
        self.shutdown();
        poll_fn(|cx| self.shared.task.poll_all_done(cx)).await
    }

    /// True when a request sent now would start at once on this connection.
    pub fn has_room(&self) -> bool {
        self.shared.slots.has_room()
    }

    /// True once the connection accepts no new requests (GOAWAY or closed).
    pub fn is_closing(&self) -> bool {
        self.shared.slots.is_closing()
    }
}

impl Member for SendRequest {
    fn slots(&self) -> &Slots {
        &self.shared.slots
    }
}

impl Conn<Async> for SendRequest {
    fn send(&self, cmd: Command) -> Result<(), Command> {
        self.tx.send(cmd).map_err(|e| e.0)
    }

    fn shutdown(&self) {
        SendRequest::shutdown(self);
    }
}

/// Starts HTTP/2 (prior knowledge) as a client on any transport. Spawn (or await) the returned
/// driver; send requests with the handle. Pushed responses arrive on the receiver.
pub fn handshake<R, IO>(io: IO, config: Config) -> Handshake<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let (sink, pushes) = h2_http::pushes::channel();
    let role = RoleState::Client {
        pushes: Some(sink),
        header_bytes: Arc::default(),
        pool_wake: None,
    };
    let conn = Connection::new(config, R::now());
    let (handle, driver) = start(conn, io, BytesMut::new(), role);
    (handle, pushes, driver)
}

/// What a client handshake gives: the handle, the pushed responses, the connection's task.
pub type Handshake<IO, R> = (SendRequest, Pushes, Driver<IO, R>);

/// A client connection task for `conn` over `io`, whose first received bytes (after a 101)
/// may already be in `read_buf`.
fn start<R, IO>(
    conn: Connection,
    io: IO,
    read_buf: BytesMut,
    role: RoleState,
) -> (SendRequest, Driver<IO, R>)
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::default());
    let driver = Driver::new(conn, io, read_buf, rx, role, shared.clone());
    (SendRequest { tx, shared }, driver)
}

/// Runs a client connection's task; `running` counts it for its client until it ends.
fn spawn_driver<R, IO>(driver: Driver<IO, R>, running: Option<Running>)
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = tracing::debug_span!("client connection");
    R::spawn(tracing::Instrument::instrument(
        async move {
            if let Err(e) = driver.await {
                tracing::debug!("client connection: {e}");
            }
            drop(running);
        },
        span,
    ));
}

/// How a [`Client`]'s connections are opened: TCP to `addr`, TLS when configured, one task
/// each on runtime `R`.
struct Opener<R: Runtime> {
    addr: SocketAddr,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> Opener<R> {
    /// Starts the connection's task over `io` as a member of its client.
    fn start<IO>(&self, io: IO, config: Config, member: Membership<Async>) -> SendRequest
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let role = RoleState::Client {
            pushes: Some(member.pushes.sink()),
            header_bytes: member.header_bytes.clone(),
            pool_wake: Some(member.wake()),
        };
        let conn = Connection::new(config, R::now());
        let (handle, driver) = start::<R, _>(conn, io, BytesMut::new(), role);
        spawn_driver(driver, Some(member.running));
        handle
    }
}

impl<R: Runtime> Connector for Opener<R> {
    type Mode = Async;
    type Conn = SendRequest;

    fn now(&self) -> Instant {
        R::now()
    }

    async fn open(&self, config: Config, member: Membership<Async>) -> Result<SendRequest, Error> {
        let socket = rt::connect_within::<R>(self.addr, OPEN_TIMEOUT).await?;
        let Some((connector, name)) = &self.tls else {
            return Ok(self.start(socket, config, member));
        };
        let handshake = connector.connect(name.clone(), socket);
        let tls = rt::timeout_at::<R, _>(R::now() + OPEN_TIMEOUT, handshake)
            .await
            .unwrap_or(Err(std::io::ErrorKind::TimedOut.into()))?;
        shared::alpn_h2(tls.get_ref().1.alpn_protocol())?;
        Ok(self.start(tls, config, member))
    }

    async fn changed(&self, signal: &Signal, seen: u64, deadline: Instant) -> bool {
        let changed = poll_fn(|cx| signal.poll_changed(seen, cx));
        rt::timeout_at::<R, _>(deadline, changed).await.is_some()
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// A client for one origin: opens connections as needed (a new one when the server's
/// concurrency limit is reached or a connection is going away) and spreads requests over them.
///
/// A new connection takes requests once the server's SETTINGS arrived, so its
/// SETTINGS_MAX_CONCURRENT_STREAMS is known; requests that find every connection full wait for
/// the one being opened rather than each opening their own. A request the server refused
/// without processing it (REFUSED_STREAM, or above a GOAWAY's last-stream-id, RFC 9113 §8.7) is
/// sent again, if none of its body was read yet; a request without a body and with an
/// idempotent method (RFC 9110 §9.2.2) is also sent again once when its connection failed
/// before the response.
pub struct Client<R: Runtime>(shared::Client<Opener<R>>);

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Client(self.0.clone())
    }
}

pub use h2_http::pool::ClientStats;

impl<R: Runtime> Client<R> {
    /// Connects to `addr` with HTTP/2 by prior knowledge.
    pub async fn connect(addr: SocketAddr) -> Result<Client<R>, Error> {
        Client::connect_with(addr, Config::client()).await
    }

    /// Connects with a custom `config`.
    pub async fn connect_with(addr: SocketAddr, config: Config) -> Result<Client<R>, Error> {
        Client::build(addr, config, None).await
    }

    /// Connects with TLS; the config must offer ALPN `h2` (see [`crate::tls`]). Fails if the
    /// server does not select `h2` (RFC 9113 §3.2).
    pub async fn connect_tls(
        addr: SocketAddr,
        server_name: &str,
        tls: Arc<tokio_rustls::rustls::ClientConfig>,
    ) -> Result<Client<R>, Error> {
        Client::connect_tls_with(addr, server_name, tls, Config::client()).await
    }

    /// As [`Client::connect_tls`], with `config` for every connection.
    pub async fn connect_tls_with(
        addr: SocketAddr,
        server_name: &str,
        tls: Arc<tokio_rustls::rustls::ClientConfig>,
        config: Config,
    ) -> Result<Client<R>, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::Malformed("server name"))?;
        let connector = tokio_rustls::TlsConnector::from(tls);
        Client::build(addr, config, Some((connector, name))).await
    }

    async fn build(
        addr: SocketAddr,
        config: Config,
        tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    ) -> Result<Client<R>, Error> {
        let runtime = PhantomData;
        let opener = Opener { addr, tls, runtime };
        Ok(Client(shared::Client::connect(opener, config).await?))
    }

    /// Pushed responses from now on arrive on the returned receiver (else they are refused).
    pub fn pushes(&self) -> Pushes {
        let (sink, pushes) = h2_http::pushes::channel();
        self.0.listen(sink);
        pushes
    }

    /// Sends `req` on a connection with room for it; retries it when the server refused it
    /// unprocessed, or, for a bodiless idempotent request, once when its connection failed.
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        self.0.send(req).await
    }

    /// Measures a round trip with PING (RFC 9113 §6.7) on one of the client's connections.
    pub async fn ping(&self) -> Result<Duration, Error> {
        self.0.ping().await
    }

    /// The counters and the server's SETTINGS of each connection that takes new requests.
    pub async fn connection_info(&self) -> Result<Vec<ConnectionInfo>, Error> {
        self.0.connection_info().await
    }

    /// How many connections are open and take new requests.
    pub fn connections(&self) -> usize {
        self.0.connections()
    }

    /// The counters since the client was created.
    pub fn stats(&self) -> ClientStats {
        self.0.stats()
    }

    /// Closes every connection gracefully and waits until each has ended (RFC 9113 §6.8):
    /// GOAWAY, requests in flight finish, then each connection keeps reading and answering
    /// the server's PINGs until the server closes or `Config::drain_timeout` passes, and our
    /// FIN goes out after our last bytes. Call it before a program exits, so that the server's
    /// last frames are answered rather than cut off.
    pub async fn close(&self) {
        self.0.close().await
    }

    /// Closes every connection gracefully, without waiting (see [`Client::close`]).
    pub fn shutdown(&self) {
        self.0.shutdown()
    }
}

/// A `Client` is a `tower::Service` for requests with any `http_body::Body` (ours, hyper's,
/// `http_body_util`'s, tonic's; see [`Body::wrap`]): tower layers (timeouts, retries, tracing)
/// stack on it, and code written against `Service<Request<B>>` (a tonic client, say) sends
/// through it. Always ready: a request that finds every connection full waits inside its
/// response future.
impl<R: Runtime, B> tower_service::Service<Request<B>> for Client<R>
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let client = self.clone();
        let req = req.map(Body::wrap);
        Box::pin(async move { client.send(req).await })
    }
}

/// Starts HTTP/2 by HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): `req` goes as an HTTP/1.1 request
/// (its body whole, with Content-Length) asking to switch; on `101 Switching Protocols` its
/// response arrives on stream 1 and the returned handle sends further requests over HTTP/2.
/// A server that does not switch is an error naming its status.
pub async fn upgrade<R: Runtime>(
    addr: SocketAddr,
    req: Request<Body>,
) -> Result<(SendRequest, Response<Body>), Error> {
    upgrade_with::<R>(addr, req, Config::client()).await
}

/// As [`upgrade`], with `config` for the connection (its SETTINGS go in `HTTP2-Settings`).
pub async fn upgrade_with<R: Runtime>(
    addr: SocketAddr,
    req: Request<Body>,
    config: Config,
) -> Result<(SendRequest, Response<Body>), Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = R::connect(addr).await?;
    let (parts, body) = req.into_parts();
    let mut switch = H2cStart::new(&Request::from_parts(parts, body.bytes().await?), config)?;
    socket.write_all(switch.request()).await?;
    let (conn, buf) = loop {
        if let Some(started) = switch.poll(R::now())? {
            break started;
        }
        if socket.read_buf(switch.read_buf()).await? == 0 {
            return Err(H2cStart::closed());
        }
    };
    // Pushes on this connection are refused: nobody listens.
    let role = RoleState::Client {
        pushes: None,
        header_bytes: Arc::default(),
        pool_wake: None,
    };
    let (handle, mut driver) = start::<R, _>(conn, socket, buf, role);
    let (resp_tx, pending) = reply::channel(None);
    driver.expect_response(h2core::StreamId::new(1), resp_tx);
    spawn_driver(driver, None);
    match pending.await {
        Reply::Head(response) => Ok((handle, response)),
        Reply::Failed(e, _) => Err(e),
    }
}
