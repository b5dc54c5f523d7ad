//! HTTP/2 for async-std and smol on the sans-IO `h2core`, with HTTP/1.1 on the same port.
//!
//! Both runtimes run on `async-io`'s reactor and timer, so this crate binds those (TCP sockets,
//! `Timer`) and the runtime's spawner to the async engine `h2-async`; the connection task,
//! bodies, client pool and same-port server are shared with every async adapter, and every
//! HTTP/2 rule lives in `h2core`. Streams are `futures-io` [`AsyncRead`]/[`AsyncWrite`].
//!
//! - Server: [`Server::bind`]`(addr).await?.serve(handler)` runs on async-std,
//!   [`smol::Server`] on smol. One cleartext port serves HTTP/1.1, h2c by prior knowledge
//!   and `Upgrade: h2c`; with [`h2_async::Server::tls`], ALPN picks `h2` or `http/1.1`.
//! - Client: [`Client::connect`]`(addr)` then `send(request)` ([`smol::Client`] on smol).
//! - Lower level: [`server::handshake`]`(io, handler)` and [`client::handshake`]`(io, config)`
//!   over any futures-io stream (`smol::server` and `smol::client` on smol), as on every
//!   adapter.
//!
//! A server and a client in one program:
//! ```
//! # #[cfg(feature = "async-std")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> { async_std::task::block_on(run()) }
//! # #[cfg(not(feature = "async-std"))]
//! # fn main() {}
//! # #[cfg(feature = "async-std")]
//! async fn run() -> Result<(), Box<dyn std::error::Error>> {
//!     use h2_async_std::{Body, Client, Server};
//!     use http::{Request, Response};
//!
//!     let server = Server::bind("127.0.0.1:0").await?;
//!     let addr = server.local_addr()?;
//!     let stop = server.shutdown_handle();
//!     let serving = async_std::task::spawn(server.serve(|req: Request<Body>| async move {
//!         let name = req.uri().path().trim_start_matches('/').to_owned();
//!         Response::new(Body::from(format!("hello {name}\n")))
//!     }));
//!
//!     let client = Client::connect(addr).await?;
//!     let request = Request::get(format!("http://{addr}/world")).body(Body::empty())?;
//!     let response = client.send(request).await?;
//!     assert_eq!(response.into_body().bytes().await?, "hello world\n");
//!     client.close().await;
//!
//!     stop.shutdown();
//!     serving.await?;
//!     Ok(())
//! }
//! ```
//!
//! Threads: async-std's executor starts `ASYNC_STD_THREAD_COUNT` threads, by default one per
//! CPU the process may run on (`available_parallelism`, which reads the CPU affinity: one
//! under `taskset -c 0`). Beside them run the thread blocked on `main`'s future and async-io's
//! own thread, which polls the reactor when no executor thread has for a while (a busy one
//! polls it only between every 200 tasks): a server pinned to one CPU has three threads, and
//! the wakeups of async-io's take turns with the executor's on that CPU.
//!
//! Sockets: the TCP streams' readiness comes from one edge-triggered epoll of this crate's
//! (mio), each socket registered once; async-io watches only that epoll's descriptor. A task
//! of the runtime takes its events and wakes the streams' tasks, on the executor's thread, and
//! while events keep coming it takes them without a turn of async-io's reactor: a busy server
//! makes one `epoll_wait` per batch, and no `epoll_ctl` per read.
#![deny(missing_docs)]
// One `unsafe` block pair, with its proof: reading a socket into uninitialized memory.
#![deny(unsafe_code)]

mod compat;
mod reactor;

use async_io::{Async, Timer};
pub use compat::Compat;
pub use futures_io::{AsyncRead, AsyncWrite};
use h2_async::rt::{Runtime, Sleep};
use reactor::Dir;
use std::future::Future;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub use h2_async::CoreCall;
pub use h2_async::{
    tls, Body, BodySender, ClientStats, Config, ConnectionInfo, Deadline, Error, Frame,
    OnInformational, PushPromise, PushedResponse, Pushes, Reason, RequestTimeout, SendRequest,
};
pub use h2_async::{Http1HeadLen, Priority, ShutdownHandle, StreamHandle};
pub use h2_async::{Protocol, RequestHandle, Upgraded};

/// The server, on async-std.
#[cfg(feature = "async-std")]
pub type Server = h2_async::Server<AsyncStd>;
/// The client, on async-std.
#[cfg(feature = "async-std")]
pub type Client = h2_async::Client<AsyncStd>;

/// `server::handshake` and `handshake_with` on the runtime `$rt`, with the names and
/// arguments every adapter has.
macro_rules! server_handshakes {
    ($rt:ty) => {
        use futures_io::{AsyncRead, AsyncWrite};
        use http::{Request, Response};
        use std::future::Future;
        use $crate::Compat;
        use $crate::{Body, Config, Driver};

        /// Serves HTTP/2 (prior knowledge) on `io`: await (or spawn) the returned task.
        pub fn handshake<IO, F, Fut>(io: IO, handler: F) -> Driver<IO, $rt>
        where
            IO: AsyncRead + AsyncWrite + Unpin,
            F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Response<Body>> + Send + 'static,
        {
            h2_async::server::handshake::<$rt, _, _, _>(Compat(io), handler)
        }

        /// As [`handshake`], with `config` (SETTINGS, limits, timeouts).
        pub fn handshake_with<IO, F, Fut>(io: IO, config: Config, handler: F) -> Driver<IO, $rt>
        where
            IO: AsyncRead + AsyncWrite + Unpin,
            F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Response<Body>> + Send + 'static,
        {
            h2_async::server::handshake_with::<$rt, _, _, _>(Compat(io), config, handler)
        }
    };
}

/// `client::handshake`, `upgrade`, `upgrade_with`, `websocket_http1` and `websocket_http1_on`
/// on the runtime `$rt`, with the names and
/// arguments every adapter has.
macro_rules! client_handshakes {
    ($rt:ty) => {
        use futures_io::{AsyncRead, AsyncWrite};
        use $crate::Compat;
        use $crate::{Body, Config, Error};

        /// Starts HTTP/2 (prior knowledge) as a client on `io`. Spawn (or await) the returned
        /// driver; send requests with the handle. Pushed responses arrive on the receiver.
        pub fn handshake<IO>(io: IO, config: Config) -> h2_async::client::Handshake<Compat<IO>, $rt>
        where
            IO: AsyncRead + AsyncWrite + Unpin,
        {
            h2_async::client::handshake::<$rt, _>(Compat(io), config)
        }

        /// Sends `req` over HTTP/1.1 asking for `Upgrade: h2c` (RFC 7540 §3.2); see
        /// [`h2_async::client::upgrade`].
        pub async fn upgrade(
            addr: std::net::SocketAddr,
            req: http::Request<Body>,
        ) -> Result<(SendRequest, http::Response<Body>), Error> {
            h2_async::client::upgrade::<$rt>(addr, req).await
        }

        /// As [`upgrade`], with `config` for the connection.
        pub async fn upgrade_with(
            addr: std::net::SocketAddr,
            req: http::Request<Body>,
            config: Config,
        ) -> Result<(SendRequest, http::Response<Body>), Error> {
            h2_async::client::upgrade_with::<$rt>(addr, req, config).await
        }

        /// Opens a WebSocket over HTTP/1.1 `Upgrade: websocket` on a new connection to `addr`
        /// (RFC 6455 §4.1): `101` with the right `Sec-WebSocket-Accept` gives the response
        /// head and the connection as an [`Upgraded`]($crate::Upgraded) (futures'
        /// `AsyncRead + AsyncWrite`, as an HTTP/2 extended CONNECT gives); see
        /// [`h2_async::client::websocket_http1`].
        pub async fn websocket_http1(
            addr: std::net::SocketAddr,
            req: http::Request<()>,
        ) -> Result<(http::Response<()>, $crate::Upgraded), Error> {
            h2_async::client::websocket_http1::<$rt>(addr, req).await
        }

        /// As [`websocket_http1`], on a futures-io transport of the caller's (a TLS stream
        /// for `wss://`).
        pub async fn websocket_http1_on<IO>(
            io: IO,
            req: http::Request<()>,
        ) -> Result<(http::Response<()>, $crate::Upgraded), Error>
        where
            IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
        {
            h2_async::client::websocket_http1_on::<$rt, _>(Compat(io), req).await
        }
    };
}

/// The same types and calls on smol.
#[cfg(feature = "smol")]
pub mod smol {
    /// The server, on smol.
    pub type Server = h2_async::Server<crate::Smol>;
    /// The client, on smol.
    pub type Client = h2_async::Client<crate::Smol>;

    /// The server side over any futures-io stream, on smol (see [`crate::server`]).
    pub mod server {
        server_handshakes!(crate::Smol);
    }

    /// The client side over any futures-io stream, on smol (see [`crate::client`]).
    pub mod client {
        pub use h2_async::client::{ClientStats, SendRequest};
        client_handshakes!(crate::Smol);
    }
}

/// One connection's task over the futures-io stream `IO`: spawn it or await it.
pub type Driver<IO, R> = h2_async::Driver<Compat<IO>, R>;

/// The server side over any futures-io stream, on async-std (`smol::server` on smol).
pub mod server {
    pub use h2_async::server::{Http1HeadLen, ShutdownHandle, StreamHandle};
    #[cfg(feature = "async-std")]
    server_handshakes!(crate::AsyncStd);
}

/// The client side over any futures-io stream, and `Upgrade: h2c`, on async-std
/// (`smol::client` on smol).
pub mod client {
    pub use h2_async::client::{ClientStats, SendRequest};
    #[cfg(feature = "async-std")]
    client_handshakes!(crate::AsyncStd);
}

/// Hooks for the shared scenario corpus (feature `test-hooks`); not part of the supported API.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod testing {
    pub use h2_async::testing::{tap, Tap};
}

/// Where tasks run: the one thing async-std and smol differ in here.
pub trait Spawn: Send + Sync + 'static {
    /// Runs `task` concurrently, detached.
    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F);
}

/// async-io's reactor and timer, with tasks spawned by `S`.
pub struct AsyncIo<S>(PhantomData<fn() -> S>);

impl<S> Clone for AsyncIo<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for AsyncIo<S> {}

impl<S> std::fmt::Debug for AsyncIo<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<S>())
    }
}

/// The async-std runtime.
#[cfg(feature = "async-std")]
pub type AsyncStd = AsyncIo<AsyncStdSpawn>;

/// Tasks on async-std's executor.
#[cfg(feature = "async-std")]
#[derive(Debug)]
pub struct AsyncStdSpawn;

#[cfg(feature = "async-std")]
impl Spawn for AsyncStdSpawn {
    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F) {
        // Boxed first: async-std wraps the future (task locals), then its executor moves it
        // into the task's allocation, and each of those moves copied the whole future (a
        // request's handler task: three copies, more instructions than tokio's whole spawn).
        // Dropping async-std's JoinHandle detaches the task.
        drop(async_std::task::spawn(Box::pin(task)));
    }
}

/// The smol runtime.
#[cfg(feature = "smol")]
pub type Smol = AsyncIo<SmolSpawn>;

/// Tasks on smol's global executor.
#[cfg(feature = "smol")]
#[derive(Debug)]
pub struct SmolSpawn;

#[cfg(feature = "smol")]
impl Spawn for SmolSpawn {
    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F) {
        ::smol::spawn(task).detach();
    }
}

/// async-io's `Timer` as the connection's one timer.
pub struct AsyncIoSleep {
    timer: Timer,
    deadline: Instant,
}

impl Future for AsyncIoSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.timer).poll(cx).map(|_| ())
    }
}

impl Sleep for AsyncIoSleep {
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.timer.set_at(deadline);
    }
}

/// A TCP stream as the engine drives it, its readiness from this crate's reactor: one
/// edge-triggered epoll for all of the adapter's sockets, whose descriptor async-io watches.
///
/// Not async-io's `Async<TcpStream>`: each wait for bytes re-arms its one-shot registration
/// (an `epoll_ctl` per read on a busy connection), where ours is registered once. And its
/// `poll_close` only flushes, so our FIN would never go out and the engine's close sequence
/// (last bytes, FIN, then reading until the peer's FIN) would leave the peer waiting for an
/// end of stream until we dropped the socket.
#[derive(Debug)]
pub struct AsyncTcp {
    socket: mio::net::TcpStream,
    registration: reactor::Registration,
    /// After a read that emptied the receive queue (or found it empty): the reactor's count
    /// of read events when that read started. Bytes that came later brought an event.
    read_wait: Option<u64>,
    /// After a write that found the send buffer full: the count of write events before it.
    write_wait: Option<u64>,
}

impl AsyncTcp {
    /// `socket`, made non-blocking and registered with the reactor whose driver runs on `S`.
    fn new<S: Spawn>(socket: TcpStream) -> io::Result<AsyncTcp> {
        socket.set_nonblocking(true)?;
        let _ = socket.set_nodelay(true);
        let mut socket = mio::net::TcpStream::from_std(socket);
        let registration = reactor::Registration::new::<S>(&mut socket)?;
        Ok(AsyncTcp {
            socket,
            registration,
            read_wait: None,
            write_wait: None,
        })
    }

    /// Writes with `write` once the send buffer may have room.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        mut write: impl FnMut(&mio::net::TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(seen) = self.write_wait {
                std::task::ready!(self.registration.poll_after(Dir::Write, seen, cx));
                self.write_wait = None;
            }
            let seen = self.registration.ticks(Dir::Write);
            match write(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_wait = Some(seen);
                    std::task::ready!(self.registration.poll_would_block(Dir::Write, seen, cx));
                    self.write_wait = None;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }
}

impl Drop for AsyncTcp {
    fn drop(&mut self) {
        // Out of the epoll while the descriptor is still this socket's; the socket closes
        // after this, and the registration's token is freed.
        self.registration.deregister(&mut self.socket);
    }
}

impl h2_async::rt::AsyncRead for AsyncTcp {
    /// Reads into the buffer's spare capacity as it is. Through futures-io's `poll_read` (a
    /// `&mut [u8]`) the driver's 16 KiB of spare capacity had to be zeroed before every read,
    /// the ones that find nothing too: more instructions per request than the HPACK decoding.
    ///
    /// Reads only when the queue may hold bytes. A read that fills less than the buffer has
    /// emptied the queue (a TCP `recv` returns what is queued, up to the length asked), and
    /// only a later read event of the edge-triggered epoll brings more: the engine polls its
    /// connection task for its handlers and timer too, and each of those polls would otherwise
    /// cost a `recv` that finds nothing. The event count is noted before each read, so bytes
    /// that arrive during or after it are never missed, only at worst read early. A `recv`
    /// also stops short of a queued FIN; the event that brought the FIN says the reading side
    /// ended, and from then on every read goes through.
    #[allow(unsafe_code)]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut h2_async::rt::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            // Nothing to read into: no wait for bytes that could not be taken.
            return Poll::Ready(Ok(()));
        }
        loop {
            if let Some(seen) = this.read_wait {
                std::task::ready!(this.registration.poll_after(Dir::Read, seen, cx));
                this.read_wait = None;
            }
            let seen = this.registration.ticks(Dir::Read);
            // SAFETY: `unfilled_mut` asks that no initialized byte be de-initialized through
            // the slice; `recv` only stores the bytes it received into it.
            let unfilled = unsafe { buf.unfilled_mut() };
            let len = unfilled.len();
            match socket2::SockRef::from(&this.socket).recv(unfilled) {
                Ok(n) => {
                    // SAFETY: `recv` returned `n`: the kernel wrote the first `n` bytes of
                    // `unfilled`, which are the first `n` unfilled bytes of `buf`.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    if n > 0 && n < len {
                        this.read_wait = Some(seen);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    this.read_wait = Some(seen);
                    std::task::ready!(this.registration.poll_would_block(Dir::Read, seen, cx));
                    this.read_wait = None;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl h2_async::rt::AsyncWrite for AsyncTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, |mut socket| socket.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, |mut socket| socket.write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to flush: writes go straight to the socket.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the sending side down (FIN).
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.socket.shutdown(std::net::Shutdown::Write))
    }
}

impl<S: Spawn> Runtime for AsyncIo<S> {
    type Sleep = AsyncIoSleep;
    type TcpStream = AsyncTcp;
    type TcpListener = Async<TcpListener>;

    fn now() -> Instant {
        Instant::now()
    }

    fn sleep_until(deadline: Instant) -> AsyncIoSleep {
        AsyncIoSleep {
            timer: Timer::at(deadline),
            deadline,
        }
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F) {
        S::spawn(task)
    }

    async fn bind(addr: SocketAddr) -> io::Result<Async<TcpListener>> {
        Async::<TcpListener>::bind(addr)
    }

    async fn accept(listener: &Async<TcpListener>) -> io::Result<(AsyncTcp, SocketAddr)> {
        // The listener's own `accept` would register the socket with async-io first.
        let (socket, peer) = listener.read_with(|l| l.accept()).await?;
        Ok((AsyncTcp::new::<S>(socket)?, peer))
    }

    fn local_addr(listener: &Async<TcpListener>) -> io::Result<SocketAddr> {
        listener.get_ref().local_addr()
    }

    async fn connect(addr: SocketAddr) -> io::Result<AsyncTcp> {
        // Connected on async-io's reactor, then moved to ours: once per connection.
        let socket = Async::<TcpStream>::connect(addr).await?.into_inner()?;
        AsyncTcp::new::<S>(socket)
    }
}
