//! The corpus through an async adapter's real connection task, over an in-memory pipe: one
//! [`PipeHarness`] for every async runtime, which only supplies an [`Executor`] (how to run
//! the task until it is idle, and how time passes).
//!
//! A peer that stops reading (`Step::PeerStopsReading`) closes a gate on the task's side of the
//! pipe: every write is Pending, as on a socket whose send buffer is full, until the peer reads
//! again. The task has then taken one batch from `poll_transmit` that it cannot finish writing
//! and takes no other, which is what the step means. (Merely not draining a small pipe would
//! not do: the task would go on writing small replies until the pipe is full, so how many PING
//! ACKs count as unwritten would depend on the pipe's size, not on the core's limit.)

use crate::{apply, corpus, run, AppCommand, Harness};
use bytes::{Bytes, BytesMut};
use h2_async::rt::{Runtime, Sleep};
use h2_async::testing::Tap;
use h2core::{Config, Event};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

/// A boxed task.
pub type Task<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What a runtime gives the harness.
pub trait Executor {
    /// Runs `task` in the background.
    fn spawn(&mut self, task: Task<()>);
    /// Runs `f` to completion, other tasks included.
    fn block_on<F: Future>(&mut self, f: F) -> F::Output;
    /// Lets every task run until none has anything left to do right now.
    fn settle(&mut self);
    /// Moves the clock the connection task sees forward by `d`.
    fn advance(&mut self, d: Duration);
}

/// Starts a connection task on the pipe end it is given: the tap to drive its core, its raw
/// events, and the task.
pub type Start<'a> = dyn FnOnce(
        Gated,
        Config,
    ) -> (
        Tap,
        mpsc::UnboundedReceiver<Event>,
        Task<Result<(), h2_async::Error>>,
    ) + 'a;

/// Whether the peer reads; the task waiting to write is woken when it reads again.
#[derive(Default)]
struct Gate {
    closed: AtomicBool,
    waiting: Mutex<Option<Waker>>,
}

impl Gate {
    fn set_reading(&self, reading: bool) {
        self.closed.store(!reading, Ordering::SeqCst);
        if reading {
            if let Some(w) = self.waiting.lock().expect("gate").take() {
                w.wake();
            }
        }
    }

    /// Ready when writes may go through; otherwise remembers who waits.
    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.closed.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.waiting.lock().expect("gate") = Some(cx.waker().clone());
        // Opened meanwhile: do not sleep through it.
        if self.closed.load(Ordering::SeqCst) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// The connection task's end of the pipe, with writes held back while the gate is closed.
pub struct Gated {
    io: DuplexStream,
    gate: Arc<Gate>,
}

impl AsyncRead for Gated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Gated {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        std::task::ready!(self.gate.poll_open(cx));
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Closing is not held back: a task that gave up on the peer drops its output and goes.
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A connection task over a pipe, driven by a scenario.
pub struct PipeHarness<X: Executor> {
    exec: X,
    peer: DuplexStream,
    gate: Arc<Gate>,
    tap: Tap,
    events: mpsc::UnboundedReceiver<Event>,
    closed: Arc<AtomicBool>,
    /// Bytes read from the pipe and not yet taken.
    received: BytesMut,
    /// The task shut its side of the pipe: it will write nothing more (it may still linger,
    /// reading, before it ends).
    eof: bool,
}

impl<X: Executor> PipeHarness<X> {
    /// A connection task made by `start` with `config`, run on `exec`.
    pub fn new(mut exec: X, config: Config, start: Box<Start<'_>>) -> PipeHarness<X> {
        let (ours, peer) = tokio::io::duplex(1 << 22);
        let gate = Arc::new(Gate::default());
        let ours = Gated {
            io: ours,
            gate: gate.clone(),
        };
        let closed = Arc::new(AtomicBool::new(false));
        let (tap, events, driver) = start(ours, config);
        let done = closed.clone();
        exec.spawn(Box::pin(async move {
            let _ = driver.await;
            done.store(true, Ordering::SeqCst);
        }));
        let mut h = PipeHarness {
            exec,
            peer,
            gate,
            tap,
            events,
            closed,
            received: BytesMut::new(),
            eof: false,
        };
        h.exec.settle();
        h
    }

    /// Reads what the task wrote so far into `received`.
    fn drain(&mut self) {
        self.exec.settle();
        let (peer, received, eof) = (&mut self.peer, &mut self.received, &mut self.eof);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // Only what is there now: a read that would wait means the task wrote nothing more.
            let read = self.exec.block_on(async {
                std::future::poll_fn(|cx| {
                    let mut rb = ReadBuf::new(&mut buf);
                    match Pin::new(&mut *peer).poll_read(cx, &mut rb) {
                        Poll::Ready(r) => Poll::Ready(Some(r.map(|()| rb.filled().len()))),
                        Poll::Pending => Poll::Ready(None),
                    }
                })
                .await
            });
            match read {
                Some(Ok(0)) | Some(Err(_)) => {
                    *eof = true;
                    break;
                }
                Some(Ok(n)) => received.extend_from_slice(&buf[..n]),
                None => break,
            }
        }
    }
}

impl<X: Executor> Harness for PipeHarness<X> {
    fn peer_send(&mut self, bytes: Bytes) {
        let peer = &mut self.peer;
        // The task may already have closed its end; the scenario then checks what it sent.
        let _ = self.exec.block_on(peer.write_all(&bytes));
        self.exec.settle();
    }

    fn peer_eof(&mut self) {
        let _ = self.exec.block_on(self.peer.shutdown());
        self.exec.settle();
    }

    fn app(&mut self, cmd: &AppCommand) -> Result<(), String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cmd = cmd.clone();
        self.tap.call(Box::new(move |conn, now| {
            let _ = tx.send(apply(conn, &cmd, now).map_err(|e| e.to_string()));
        }));
        self.exec.settle();
        rx.try_recv()
            .unwrap_or_else(|_| Err("the connection task is gone".into()))
    }

    fn advance(&mut self, d: Duration) {
        self.exec.advance(d);
        self.exec.settle();
    }

    fn take_sent(&mut self) -> Bytes {
        self.drain();
        self.received.split().freeze()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.exec.settle();
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    fn is_closed(&mut self) -> bool {
        self.drain();
        self.eof || self.closed.load(Ordering::SeqCst)
    }

    fn set_peer_reading(&mut self, reading: bool) -> bool {
        self.gate.set_reading(reading);
        self.exec.settle();
        true
    }
}

/// Runs the whole corpus, one fresh harness per scenario from `make`, and fails listing every
/// scenario that failed through `adapter`.
pub fn run_corpus<H: Harness>(adapter: &str, mut make: impl FnMut(Config) -> H) {
    let scenarios = corpus::all();
    let mut failures = Vec::new();
    for s in &scenarios {
        let mut h = make(s.config.clone());
        if let Err(e) = run(s, &mut h) {
            failures.push(e);
        }
    }
    println!("{} scenarios through {adapter}", scenarios.len());
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed through {adapter}:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}

thread_local! {
    /// How far [`ManualClock`] was advanced on this thread.
    static OFFSET: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Timers of [`ManualClock`] waiting on this thread.
    static SLEEPERS: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// A clock that only moves when told to ([`ManualClock::advance`]), for a runtime without a
/// paused test clock. It is per thread: the harness runs the task on the test's thread.
pub struct ManualClock;

impl ManualClock {
    fn base() -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now)
    }

    /// Now, on this thread's clock.
    pub fn now() -> Instant {
        Self::base() + OFFSET.with(Cell::get)
    }

    /// Moves this thread's clock forward; timers due fire.
    pub fn advance(d: Duration) {
        OFFSET.with(|o| o.set(o.get() + d));
        for w in SLEEPERS.with(|s| std::mem::take(&mut *s.borrow_mut())) {
            w.wake();
        }
    }
}

/// A timer on [`ManualClock`].
pub struct ManualSleep(Instant);

impl Future for ManualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if ManualClock::now() >= self.0 {
            return Poll::Ready(());
        }
        SLEEPERS.with(|s| {
            let mut s = s.borrow_mut();
            if !s.iter().any(|w| w.will_wake(cx.waker())) {
                s.push(cx.waker().clone());
            }
        });
        Poll::Pending
    }
}

impl Sleep for ManualSleep {
    fn deadline(&self) -> Instant {
        self.0
    }

    fn reset(&mut self, deadline: Instant) {
        self.0 = deadline;
    }
}

/// A [`Runtime`] whose clock is [`ManualClock`]: what the corpus runs the connection task
/// with when the runtime under test has no paused clock. Bytes still go through the adapter's
/// own stream types; only time is the test's. It has no TCP and spawns nothing (a tapped
/// connection runs no handlers).
pub struct ManualRuntime;

impl Runtime for ManualRuntime {
    type Sleep = ManualSleep;
    type TcpStream = DuplexStream;
    type TcpListener = ();

    fn now() -> Instant {
        ManualClock::now()
    }

    fn sleep_until(deadline: Instant) -> ManualSleep {
        ManualSleep(deadline)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(_task: F) {
        panic!("ManualRuntime runs only a tapped connection, which spawns no task");
    }

    async fn bind(_addr: std::net::SocketAddr) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    async fn accept(_: &()) -> std::io::Result<(DuplexStream, std::net::SocketAddr)> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    fn local_addr(_: &()) -> std::io::Result<std::net::SocketAddr> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    async fn connect(_addr: std::net::SocketAddr) -> std::io::Result<DuplexStream> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}
