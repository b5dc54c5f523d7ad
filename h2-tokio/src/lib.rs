//! HTTP/2 for tokio on the sans-IO `h2core`, with HTTP/1.1 on the same port.
//!
//! This crate only binds tokio's clock, timer, spawner and TCP to the async engine `h2-async`
//! ([`Tokio`]); the connection task, bodies, client pool and same-port server are shared with
//! every async adapter, and every HTTP/2 rule lives in `h2core`.
//!
//! - Server: [`Server::bind`]`(addr).await?.serve(handler)`, or [`server::handshake`] over any
//!   transport. One cleartext port serves HTTP/1.1, h2c by prior knowledge and `Upgrade: h2c`;
//!   with [`Server::tls`], ALPN picks `h2` or `http/1.1`.
//! - Client: [`Client::connect`]`(addr)` then `send(request)`, or [`client::handshake`].
//!
//! A server and a client in one program:
//! ```
//! use h2_tokio::{Body, Client, Server};
//! use http::{Request, Response};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = Server::bind("127.0.0.1:0").await?;
//!     let addr = server.local_addr()?;
//!     let stop = server.shutdown_handle();
//!     // Each request's body streams in; the response's streams out (here, given whole).
//!     let serving = tokio::spawn(server.serve(|req: Request<Body>| async move {
//!         let name = req.uri().path().trim_start_matches('/').to_owned();
//!         Response::new(Body::from(format!("hello {name}\n")))
//!     }));
//!
//!     let client = Client::connect(addr).await?;
//!     let request = Request::get(format!("http://{addr}/world")).body(Body::empty())?;
//!     let response = client.send(request).await?;
//!     assert_eq!(response.status(), 200);
//!     assert_eq!(response.into_body().bytes().await?, "hello world\n");
//!     client.close().await; // GOAWAY, then wait for the server's last frames
//!
//!     stop.shutdown();
//!     serving.await??;
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use h2_async::rt::{Runtime, Sleep};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub use h2_async::CoreCall;
pub use h2_async::{rt, Http1HeadLen, ShutdownHandle, StreamHandle};
pub use h2_async::{
    tls, Body, BodySender, ClientStats, Config, ConnectionInfo, Deadline, Error, Frame,
    OnInformational, PushPromise, PushedResponse, Pushes, Reason, RequestTimeout, SendRequest,
};
pub use h2_async::{Priority, Protocol, RequestHandle, Upgraded};

pub mod http1;

/// The server, on tokio.
pub type Server = h2_async::Server<Tokio>;
/// The client, on tokio.
pub type Client = h2_async::Client<Tokio>;
/// One connection's task, on tokio: spawn it or await it.
pub type Driver<IO> = h2_async::Driver<IO, Tokio>;

/// The server side over any transport.
pub mod server {
    pub use h2_async::server::{Http1HeadLen, ShutdownHandle, StreamHandle};

    use crate::{Body, Config, Driver, Tokio};
    use http::{Request, Response};
    use std::future::Future;
    use tokio::io::{AsyncRead, AsyncWrite};

    /// Serves HTTP/2 (prior knowledge) on `io`: await (or spawn) the returned task.
    pub fn handshake<IO, F, Fut>(io: IO, handler: F) -> Driver<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        h2_async::server::handshake::<Tokio, _, _, _>(io, handler)
    }

    /// As [`handshake`], with `config` (SETTINGS, limits, timeouts).
    pub fn handshake_with<IO, F, Fut>(io: IO, config: Config, handler: F) -> Driver<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        h2_async::server::handshake_with::<Tokio, _, _, _>(io, config, handler)
    }
}

/// The client side over any transport, `Upgrade: h2c`, and WebSockets over HTTP/1.1.
pub mod client {
    pub use h2_async::client::{ClientStats, SendRequest};

    use crate::{Body, Error, Tokio};
    use h2core::Config;
    use http::{Request, Response};
    use std::net::SocketAddr;
    use tokio::io::{AsyncRead, AsyncWrite};

    /// Starts HTTP/2 (prior knowledge) as a client on `io`. Spawn (or await) the returned
    /// driver; send requests with the handle. Pushed responses arrive on the receiver.
    pub fn handshake<IO>(io: IO, config: Config) -> h2_async::client::Handshake<IO, Tokio>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        h2_async::client::handshake::<Tokio, _>(io, config)
    }

    /// Sends `req` over HTTP/1.1 asking for `Upgrade: h2c` (RFC 7540 §3.2); see
    /// [`h2_async::client::upgrade`].
    pub async fn upgrade(
        addr: SocketAddr,
        req: Request<Body>,
    ) -> Result<(SendRequest, Response<Body>), Error> {
        h2_async::client::upgrade::<Tokio>(addr, req).await
    }

    /// As [`upgrade`], with `config` for the connection.
    pub async fn upgrade_with(
        addr: SocketAddr,
        req: Request<Body>,
        config: Config,
    ) -> Result<(SendRequest, Response<Body>), Error> {
        h2_async::client::upgrade_with::<Tokio>(addr, req, config).await
    }

    /// Opens a WebSocket over HTTP/1.1 `Upgrade: websocket` on a new connection to `addr`
    /// (RFC 6455 §4.1): `101` with the right `Sec-WebSocket-Accept` gives the response head
    /// and the connection as an [`Upgraded`](crate::Upgraded) (tokio's `AsyncRead +
    /// AsyncWrite`, as an HTTP/2 extended CONNECT gives); see
    /// [`h2_async::client::websocket_http1`].
    /// ```no_run
    /// # async fn f(addr: std::net::SocketAddr) -> Result<(), h2_tokio::Error> {
    /// let req = http::Request::get(format!("ws://{addr}/ws")).body(()).unwrap();
    /// let (response, stream) = h2_tokio::client::websocket_http1(addr, req).await?;
    /// assert_eq!(response.status(), 101);
    /// // tokio_tungstenite::WebSocketStream::from_raw_socket(stream, Role::Client, None)
    /// # drop(stream);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn websocket_http1(
        addr: SocketAddr,
        req: Request<()>,
    ) -> Result<(Response<()>, crate::Upgraded), Error> {
        h2_async::client::websocket_http1::<Tokio>(addr, req).await
    }

    /// As [`websocket_http1`], on a transport of the caller's (a TLS stream for `wss://`).
    pub async fn websocket_http1_on<IO>(
        io: IO,
        req: Request<()>,
    ) -> Result<(Response<()>, crate::Upgraded), Error>
    where
        IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        h2_async::client::websocket_http1_on::<Tokio, _>(io, req).await
    }
}

/// Hooks for the shared scenario corpus (feature `test-hooks`); not part of the supported API.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod testing {
    pub use h2_async::testing::Tap;

    /// A tapped connection task over `io` (see `h2_async::testing::tap`).
    #[allow(clippy::type_complexity)]
    pub fn tap<IO>(
        io: IO,
        config: h2core::Config,
    ) -> (
        Tap,
        tokio::sync::mpsc::UnboundedReceiver<h2core::Event>,
        crate::Driver<IO>,
    )
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        h2_async::testing::tap::<crate::Tokio, _>(io, config)
    }
}

/// tokio as the engine's runtime: its clock (paused time in tests applies to the core too),
/// its timer, `tokio::spawn` and its TCP.
#[derive(Debug, Clone, Copy)]
pub struct Tokio;

/// tokio's timer as the connection's one timer.
pub struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Sleep for TokioSleep {
    fn deadline(&self) -> Instant {
        self.0.deadline().into_std()
    }

    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }
}

impl Runtime for Tokio {
    type Sleep = TokioSleep;
    type TcpStream = tokio::net::TcpStream;
    type TcpListener = tokio::net::TcpListener;

    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(deadline: Instant) -> TokioSleep {
        TokioSleep(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F) {
        tokio::spawn(task);
    }

    async fn bind(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
        tokio::net::TcpListener::bind(addr).await
    }

    async fn accept(
        listener: &tokio::net::TcpListener,
    ) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
        let (socket, peer) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        Ok((socket, peer))
    }

    fn local_addr(listener: &tokio::net::TcpListener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn connect(addr: SocketAddr) -> io::Result<tokio::net::TcpStream> {
        let socket = tokio::net::TcpStream::connect(addr).await?;
        let _ = socket.set_nodelay(true);
        Ok(socket)
    }
}
