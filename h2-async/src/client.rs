//! The client: requests over HTTP/2 by prior knowledge (or after `Upgrade: h2c`), many at once
//! on one connection, a new connection when the server's SETTINGS_MAX_CONCURRENT_STREAMS is
//! reached, refused requests retried (RFC 9113 §8.7), pushed responses delivered to the user.

use crate::driver::Driver;
use crate::handle::{PushPromise, Pushes};
use crate::rt::{self, AsyncRead, AsyncWrite, Runtime};
use crate::session::{Command, RoleState};
use crate::shared::Shared;
pub use crate::websocket::{websocket_http1, websocket_http1_on};
use crate::Body;
use bytes::BytesMut;
use h2_http::body::Async;
use h2_http::handle::{ConnectionInfo, StreamCommand};
use h2_http::oneshot::Receiver;
use h2_http::pool::{Choice, Member, Pool, Running};
use h2_http::reply::{self, Reply};
use h2_http::{Error, RequestOptions};
use h2core::shell::pool::{Failure, Retry, Slots, OPEN_TIMEOUT};
use h2core::shell::ALPN_H2;
use h2core::{Config, Connection, Header};
use http::{Request, Response};
use std::future::poll_fn;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
        self.send_head(head, req.into_body(), options, false)
            .await
            .0
    }

    /// Sends a request (on a slot reserved in `Slots` when `reserved`); also returns the body
    /// when it came back unread (the request was not sent, or was refused).
    async fn send_head(
        &self,
        head: Vec<Header>,
        body: Body,
        options: RequestOptions,
        reserved: bool,
    ) -> (Result<Response<Body>, Error>, Option<Body>) {
        let abandon = self.tx.clone();
        let (tx, pending) = reply::channel(Some(Box::new(move || {
            let _ = abandon.send(Command::Abandoned);
        })));
        let cmd = Command::Request {
            head,
            body,
            reply: tx,
            reserved,
            options,
        };
        if let Err(mpsc::error::SendError(cmd)) = self.tx.send(cmd) {
            if reserved {
                self.shared.slots.release();
            }
            let Command::Request { body, .. } = cmd else {
                unreachable!("sent a request")
            };
            return (Err(Error::ConnectionGone), Some(body));
        }
        match pending.await {
            Reply::Head(response) => (Ok(response), None),
            Reply::Failed(e, back) => (Err(e), back),
        }
    }

    /// Measures a round trip with PING (RFC 9113 §6.7).
    pub async fn ping(&self) -> Result<Duration, Error> {
        self.ask(StreamCommand::ping()).await
    }

    /// The connection's counters and the server's SETTINGS in force.
    pub async fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        self.ask(StreamCommand::info()).await
    }

    /// Sends `cmd` to the connection task and waits for its answer.
    async fn ask<T>(
        &self,
        (cmd, rx): (StreamCommand<Async>, Receiver<Result<T, Error>>),
    ) -> Result<T, Error> {
        self.tx
            .send(Command::Stream(cmd))
            .map_err(|_| Error::ConnectionGone)?;
        rx.await.unwrap_or(Err(Error::ConnectionGone))
    }

    /// Starts a graceful close: GOAWAY, let streams finish, drain.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
    }

    /// Closes the connection gracefully and waits until it has ended: see [`Client::close`].
    pub async fn close(&self) {
        self.shutdown();
        ended(&self.shared).await;
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

/// Starts HTTP/2 (prior knowledge) as a client on any transport. Spawn (or await) the returned
/// driver; send requests with the handle. Pushed responses arrive on the receiver.
pub fn handshake<R, IO>(io: IO, config: Config) -> Handshake<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let conn = Connection::new(config, R::now());
    start(conn, io, BytesMut::new(), Arc::default())
}

/// What a client handshake gives: the handle, the pushed responses, the connection's task.
pub type Handshake<IO, R> = (SendRequest, Pushes, Driver<IO, R>);

/// A client connection task for `conn` over `io`, whose first received bytes (after a 101)
/// may already be in `read_buf`; it adds the header bytes it sends to `header_bytes`.
fn start<R, IO>(
    conn: Connection,
    io: IO,
    read_buf: BytesMut,
    header_bytes: Arc<AtomicU64>,
) -> Handshake<IO, R>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let (push_tx, push_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared::default());
    let driver = Driver::new(
        conn,
        io,
        read_buf,
        rx,
        RoleState::Client {
            pushes: Some(push_tx),
            header_bytes,
        },
        shared.clone(),
    );
    (SendRequest { tx, shared }, Pushes(push_rx), driver)
}

/// Runs a client connection's task; `running` counts it for its pool until it ends.
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
pub struct Client<R: Runtime> {
    addr: SocketAddr,
    config: Config,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    pool: Arc<Pool<SendRequest>>,
    pushes: Arc<Mutex<Option<mpsc::UnboundedSender<PushPromise>>>>,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Client {
            addr: self.addr,
            config: self.config.clone(),
            tls: self.tls.clone(),
            pool: self.pool.clone(),
            pushes: self.pushes.clone(),
            runtime: PhantomData,
        }
    }
}

pub use h2_http::pool::ClientStats;

impl Member for SendRequest {
    fn slots(&self) -> &Slots {
        &self.shared.slots
    }
}

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
        let client = Client {
            addr,
            config,
            tls,
            pool: Arc::new(Pool::default()),
            pushes: Arc::new(Mutex::new(None)),
            runtime: PhantomData,
        };
        let first = client.open().await?;
        client.pool.add(first);
        Ok(client)
    }

    /// Pushed responses from now on arrive on the returned receiver (else they are refused).
    pub fn pushes(&self) -> Pushes {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.pushes.lock().expect("not poisoned") = Some(tx);
        Pushes(rx)
    }

    /// Opens a connection and waits for the server's SETTINGS, so its limits are known
    /// (RFC 9113 §6.5.2: until then a client that opened many streams could see them refused).
    async fn open(&self) -> Result<SendRequest, Error> {
        let socket = rt::connect_within::<R>(self.addr, OPEN_TIMEOUT).await?;
        let conn = || Connection::new(self.pool.config(&self.config), R::now());
        let counter = self.pool.header_bytes();
        let running = Some(self.pool.signal().running());
        let (handle, mut push_rx) = match &self.tls {
            None => {
                let (handle, push_rx, driver) =
                    start::<R, _>(conn(), socket, BytesMut::new(), counter);
                spawn_driver(driver, running);
                (handle, push_rx)
            }
            Some((connector, name)) => {
                let tls = connector.connect(name.clone(), socket).await?;
                if tls.get_ref().1.alpn_protocol() != Some(ALPN_H2) {
                    return Err(Error::Malformed("ALPN: the server did not select h2"));
                }
                let (handle, push_rx, driver) =
                    start::<R, _>(conn(), tls, BytesMut::new(), counter);
                spawn_driver(driver, running);
                (handle, push_rx)
            }
        };
        let pushes = self.pushes.clone();
        R::spawn(async move {
            while let Some(p) = push_rx.recv().await {
                let tx = pushes.lock().expect("not poisoned").clone();
                if let Some(tx) = tx {
                    let _ = tx.send(p);
                }
            }
        });
        let shared = handle.shared.clone();
        let ready = async {
            loop {
                let notified = shared.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if shared.slots.is_ready() {
                    return;
                }
                notified.await;
            }
        };
        if rt::timeout_at::<R, _>(R::now() + OPEN_TIMEOUT, ready)
            .await
            .is_none()
        {
            handle.shutdown();
            return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
        }
        if handle.is_closing() {
            return Err(Error::ConnectionGone);
        }
        Ok(handle)
    }

    /// A connection with a stream reserved for one request: one with room, else the one being
    /// opened once it is ready, else a new one.
    async fn pick(&self) -> Result<SendRequest, Error> {
        loop {
            match self.pool.choose() {
                Choice::Use(conn) => return Ok(conn),
                Choice::Open(opening) => {
                    let conn = self.open().await?;
                    opening.done(conn.clone());
                    return Ok(conn);
                }
                Choice::Wait(seen) => {
                    poll_fn(|cx| self.pool.signal().poll_changed(seen, cx)).await;
                }
            }
        }
    }

    /// Sends `req` on a connection with room for it; retries it when the server refused it
    /// unprocessed, or, for a bodiless idempotent request, once when its connection failed.
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        let head = h2_http::request_to_h2(&req, "http");
        let idempotent = req.method().is_idempotent();
        let options = RequestOptions::of(&req);
        let mut body = req.into_body();
        let bodiless = body.is_end_stream();
        let mut retry = Retry::new(idempotent, bodiless);
        loop {
            let conn = self.pick().await?;
            let (result, unsent) = conn
                .send_head(head.clone(), body, options.clone(), true)
                .await;
            let err = match result {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            // The task gone with the body given back: the request never started.
            let failure = match err {
                Error::ConnectionGone if unsent.is_some() => Failure::Refused,
                _ => err.failure(),
            };
            let whole = unsent.is_some() || bodiless;
            if !retry.again(failure, whole) {
                return Err(err);
            }
            body = unsent.unwrap_or_default();
            self.pool.retried();
        }
    }

    /// Measures a round trip with PING (RFC 9113 §6.7) on one of the client's connections.
    pub async fn ping(&self) -> Result<Duration, Error> {
        let conn = self.pool.members().into_iter().next();
        conn.ok_or(Error::ConnectionGone)?.ping().await
    }

    /// The counters and the server's SETTINGS of each connection that takes new requests.
    pub async fn connection_info(&self) -> Result<Vec<ConnectionInfo>, Error> {
        let mut all = Vec::new();
        for conn in self.pool.members() {
            all.push(conn.connection_info().await?);
        }
        Ok(all)
    }

    /// How many connections are open and take new requests.
    pub fn connections(&self) -> usize {
        self.pool.connections()
    }

    /// The counters since the client was created.
    pub fn stats(&self) -> ClientStats {
        self.pool.stats()
    }

    /// Closes every connection gracefully and waits until each has ended (RFC 9113 §6.8):
    /// GOAWAY, requests in flight finish, then each connection keeps reading and answering
    /// the server's PINGs until the server closes or `Config::drain_timeout` passes, and our
    /// FIN goes out after our last bytes. Call it before a program exits, so that the server's
    /// last frames are answered rather than cut off.
    pub async fn close(&self) {
        self.shutdown();
        let signal = self.pool.signal();
        loop {
            let seen = signal.generation();
            if signal.running_count() == 0 {
                return;
            }
            poll_fn(|cx| signal.poll_changed(seen, cx)).await;
        }
    }

    /// Closes every connection gracefully, without waiting (see [`Client::close`]).
    pub fn shutdown(&self) {
        for c in self.pool.take_all() {
            c.shutdown();
        }
    }
}

/// Waits until the task of the connection behind `shared` has ended.
async fn ended(shared: &Shared) {
    loop {
        let notified = shared.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.finished.load(Ordering::Acquire) {
            return;
        }
        notified.await;
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
    use h2core::shell::{H2cUpgradeClient, UpgradeError};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = R::connect(addr).await?;
    let (parts, body) = req.into_parts();
    let body = body.bytes().await?;
    let head_request = parts.method == http::Method::HEAD;
    let mut out = BytesMut::new();
    h2_http::h2c_upgrade_request(
        &Request::from_parts(parts, ()),
        &body,
        &config.settings,
        &mut out,
    )?;
    socket.write_all(&out).await?;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let mut switch = H2cUpgradeClient::new(config, head_request);
    let conn = loop {
        match switch.poll(R::now(), &mut buf) {
            Ok(Some(conn)) => break conn,
            Ok(None) if socket.read_buf(&mut buf).await? == 0 => {
                return Err(Error::Http1(UpgradeError::Closed.to_string()));
            }
            Ok(None) => {}
            Err(e) => return Err(Error::Http1(e.to_string())),
        }
    };
    // Pushes on this connection are refused: nobody takes the receiver.
    let (handle, _pushes, mut driver) = start::<R, _>(conn, socket, buf, Arc::default());
    let (resp_tx, pending) = reply::channel(None);
    driver.expect_response(h2core::StreamId::new(1), resp_tx);
    spawn_driver(driver, None);
    match pending.await {
        Reply::Head(response) => Ok((handle, response)),
        Reply::Failed(e, _) => Err(e),
    }
}
