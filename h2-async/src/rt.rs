//! What the engine needs of an async runtime, and nothing more: a clock, one timer per
//! connection, a way to spawn tasks, and TCP. An adapter crate (h2-tokio, h2-async-std)
//! implements [`Runtime`] for its runtime; everything else is shared.
//!
//! Byte streams are tokio's [`AsyncRead`]/[`AsyncWrite`] traits: they are plain trait
//! definitions that need no tokio runtime (hyperium's h2 uses them the same way), and the
//! channels are `tokio::sync`, which works on any executor. An adapter for another runtime
//! wraps its streams (h2-async-std's `Compat` for futures-io ones).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Context;
use std::time::Instant;
pub use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An async runtime, as the engine sees it. All methods are associated functions: the
/// runtimes we bind keep their reactor and executor in globals (or the current context).
pub trait Runtime: Send + Sync + Sized + 'static {
    /// The runtime's timer.
    type Sleep: Sleep;
    /// A connected TCP stream.
    type TcpStream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A listening TCP socket.
    type TcpListener: Send + Sync + 'static;

    /// The runtime's clock (under a paused test clock, that clock).
    fn now() -> Instant;
    /// A timer firing at `deadline`.
    fn sleep_until(deadline: Instant) -> Self::Sleep;
    /// Runs `task` concurrently.
    fn spawn<F: Future<Output = ()> + Send + 'static>(task: F);
    /// Listens on `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::TcpListener>> + Send;
    /// The next connection on `listener`, with Nagle's algorithm off.
    fn accept(
        listener: &Self::TcpListener,
    ) -> impl Future<Output = io::Result<(Self::TcpStream, SocketAddr)>> + Send;
    /// The address `listener` is bound to.
    fn local_addr(listener: &Self::TcpListener) -> io::Result<SocketAddr>;
    /// Connects to `addr`, with Nagle's algorithm off (the engine batches its own writes).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::TcpStream>> + Send;
}

/// A resettable timer: the connection's one timer, moved to the core's next deadline.
pub trait Sleep: Future<Output = ()> + Send + Unpin + 'static {
    /// The instant it fires at.
    fn deadline(&self) -> Instant;
    /// Fires at `deadline` instead.
    fn reset(&mut self, deadline: Instant);
}

/// A connection's one timer, moved lazily: a later deadline keeps the armed time, where the
/// timer fires early and is then moved on. The core's deadlines move later with nearly every
/// write (the stall and idle guards), and moving a timer is not free everywhere: async-io's
/// wakes its reactor thread (an eventfd write and read) for each move.
pub(crate) struct Timer<S: Sleep> {
    sleep: S,
    /// The armed time has passed: moved before it is polled again (some timers fire once).
    fired: bool,
}

impl<S: Sleep> Timer<S> {
    pub(crate) fn new(sleep: S) -> Timer<S> {
        Timer {
            sleep,
            fired: false,
        }
    }

    /// True once `deadline` has passed; else `cx` is woken at or before it.
    pub(crate) fn poll_at(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        // Bounded: an early fire moves the timer to `deadline`, which then is pending or due.
        for _ in 0..2 {
            if self.fired || deadline < self.sleep.deadline() {
                self.sleep.reset(deadline);
                self.fired = false;
            }
            if Pin::new(&mut self.sleep).poll(cx).is_pending() {
                return false;
            }
            self.fired = true;
            if self.sleep.deadline() >= deadline {
                return true;
            }
        }
        false
    }
}

/// Connects to `addr` within `timeout` (else `TimedOut`).
pub(crate) async fn connect_within<R: Runtime>(
    addr: SocketAddr,
    timeout: std::time::Duration,
) -> io::Result<R::TcpStream> {
    let connecting = timeout_at::<R, _>(R::now() + timeout, R::connect(addr));
    connecting
        .await
        .unwrap_or(Err(io::ErrorKind::TimedOut.into()))
}

/// `fut`, or `None` once `deadline` passes first.
pub async fn timeout_at<R: Runtime, F: Future>(deadline: Instant, fut: F) -> Option<F::Output> {
    let sleep = R::sleep_until(deadline);
    tokio::select! {
        biased;
        out = fut => Some(out),
        () = sleep => None,
    }
}
