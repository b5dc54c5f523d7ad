//! Readiness of the adapter's TCP streams from one edge-triggered epoll of our own (mio), whose
//! file descriptor is the one source async-io watches for them all.
//!
//! async-io registers each socket with a one-shot interest: every wait for bytes re-arms it with
//! an `epoll_ctl`, one per read on a busy connection. Here each socket is registered once,
//! edge-triggered, and async-io re-arms only our epoll's descriptor, once per batch of events:
//! a task of the runtime (the driver) waits until async-io finds that descriptor readable,
//! takes the events without blocking and wakes the tasks waiting on those sockets. The waking
//! runs on the executor's thread, between its other tasks.

use crate::Spawn;
use async_io::Async;
use mio::{Events, Interest, Registry, Token};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The sockets' epoll, as the sockets see it; the epoll itself belongs to the driver.
pub(crate) struct Reactor {
    /// A second descriptor of the epoll: registers sockets, and is async-io's source.
    registry: Async<Registry>,
    /// The registered sockets, by token.
    sources: Mutex<Slots>,
}

/// Registered sockets by token, and the free tokens.
#[derive(Default)]
struct Slots {
    sources: Vec<Option<Arc<Source>>>,
    free: Vec<usize>,
}

/// Events taken per `epoll_wait`: more than the connections one batch usually makes ready.
const EVENTS: usize = 256;

static REACTOR: OnceLock<Reactor> = OnceLock::new();

impl Reactor {
    /// The reactor, made (and its driver spawned by `S`) the first time a socket needs it.
    fn get<S: Spawn>() -> io::Result<&'static Reactor> {
        if let Some(reactor) = REACTOR.get() {
            return Ok(reactor);
        }
        let poll = mio::Poll::new()?;
        let reactor = Reactor {
            registry: Async::new(poll.registry().try_clone()?)?,
            sources: Mutex::default(),
        };
        // Two threads may both get here: the first one to set spawns its driver, the other
        // drops its epoll unused.
        if REACTOR.set(reactor).is_ok() {
            let reactor = REACTOR.get().expect("just set");
            S::spawn(drive(reactor, poll));
        }
        Ok(REACTOR.get().expect("set by this thread or another"))
    }

    /// Wakes the tasks waiting on the sockets `events` names. The sockets are looked up under
    /// the table's lock and woken after it, so a waker that drops a socket cannot deadlock.
    fn dispatch(&self, events: &Events, woken: &mut Vec<(Arc<Source>, Readiness)>) {
        {
            let slots = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            for event in events {
                // A token freed since the event was queued (or reused): at worst a spurious
                // wake, which costs its task one call that finds nothing.
                if let Some(Some(source)) = slots.sources.get(event.token().0) {
                    woken.push((source.clone(), Readiness::of(event)));
                }
            }
        }
        for (source, readiness) in woken.drain(..) {
            if readiness.read_ended || readiness.readable {
                source.read.fire(readiness.read_ended);
            }
            if readiness.write_ended || readiness.writable {
                source.write.fire(readiness.write_ended);
            }
        }
    }
}

/// What one event says of its socket.
#[derive(Debug, Clone, Copy)]
struct Readiness {
    readable: bool,
    writable: bool,
    /// The peer's FIN, a hang-up or an error: no later read event will come.
    read_ended: bool,
    /// A hang-up or an error: no later write event will come.
    write_ended: bool,
}

impl Readiness {
    fn of(event: &mio::event::Event) -> Readiness {
        // An error ends waits of both kinds: the next call reports it.
        let fault = event.is_error();
        Readiness {
            readable: event.is_readable(),
            writable: event.is_writable(),
            read_ended: fault || event.is_read_closed(),
            write_ended: fault || event.is_write_closed(),
        }
    }
}

/// Waits for async-io to see the epoll readable, then takes its events without blocking for
/// as long as there are some, letting the tasks it woke run between two takes.
///
/// While the server is busy, a batch of events costs one `epoll_wait` and nothing of
/// async-io's: its turn (an `epoll_pwait`, the re-arm of its one-shot registrations of our
/// descriptor, its notifier and its timer) comes only when a take finds nothing, that is once
/// the sockets went quiet.
async fn drive(reactor: &'static Reactor, mut poll: mio::Poll) {
    let mut events = Events::with_capacity(EVENTS);
    let mut woken = Vec::with_capacity(EVENTS);
    loop {
        if std::future::poll_fn(|cx| reactor.registry.poll_readable(cx))
            .await
            .is_err()
        {
            // async-io could not re-arm the descriptor (out of memory): try again later
            // rather than leave every socket waiting for good.
            async_io::Timer::after(Duration::from_millis(1)).await;
            continue;
        }
        loop {
            match poll.poll(&mut events, Some(Duration::ZERO)) {
                Ok(()) if events.is_empty() => break,
                Ok(()) => reactor.dispatch(&events, &mut woken),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
            // Behind the tasks just woken: the next take comes after they ran.
            yield_now().await;
        }
    }
}

/// Lets the executor run the tasks queued before this one.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// One direction (reading or writing) of a registered socket.
#[derive(Default)]
struct Direction {
    /// Events seen so far. A task notes it before trying its call: if the call would block and
    /// no event came since, the next one is still to come and the task waits for it.
    ticks: AtomicU64,
    /// No more events will come (the peer's FIN, a reset, an error): every call goes through.
    /// A read that returns the last bytes before a FIN comes back short with the FIN still
    /// queued, and the FIN's event may be the one that brought those bytes.
    ended: AtomicBool,
    /// The task waiting for the next event, if any.
    waker: Mutex<Option<Waker>>,
}

impl Direction {
    /// An event: counted, and the waiting task woken. Counted under the waker's lock, so that
    /// a task registering its waker either sees the new count or is woken.
    fn fire(&self, ended: bool) {
        let waker = {
            let mut waker = self.waker.lock().unwrap_or_else(|e| e.into_inner());
            if ended {
                self.ended.store(true, Ordering::Release);
            }
            self.ticks.fetch_add(1, Ordering::Release);
            waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Acquire)
    }

    /// Ready once an event came after the count `seen` (or none will come); else the task
    /// waits for one.
    fn poll_after(&self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.ticks() != seen || self.ended.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut waker = self.waker.lock().unwrap_or_else(|e| e.into_inner());
        if self.ticks() != seen || self.ended.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        match &mut *waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// What the reactor knows of one socket.
#[derive(Default)]
struct Source {
    read: Direction,
    write: Direction,
}

/// A socket's place in the reactor; deregister it before the socket closes.
pub(crate) struct Registration {
    reactor: &'static Reactor,
    source: Arc<Source>,
    token: usize,
}

/// Readiness of one direction, as [`Registration::ticks`] and [`Registration::poll_after`] take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Read,
    Write,
}

impl Registration {
    /// Registers `socket` (non-blocking) for both directions, edge-triggered, with the reactor
    /// whose driver runs on `S`.
    pub(crate) fn new<S: Spawn>(socket: &mut mio::net::TcpStream) -> io::Result<Registration> {
        let reactor = Reactor::get::<S>()?;
        let source = Arc::new(Source::default());
        let token = {
            let mut slots = reactor.sources.lock().unwrap_or_else(|e| e.into_inner());
            match slots.free.pop() {
                Some(token) => {
                    slots.sources[token] = Some(source.clone());
                    token
                }
                None => {
                    slots.sources.push(Some(source.clone()));
                    slots.sources.len() - 1
                }
            }
        };
        let registration = Registration {
            reactor,
            source,
            token,
        };
        reactor.registry.get_ref().register(
            socket,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(registration)
    }

    /// Removes `socket` from the epoll (before it closes, while its descriptor is still its
    /// own). The token is freed when the registration drops.
    pub(crate) fn deregister(&self, socket: &mut mio::net::TcpStream) {
        let _ = self.reactor.registry.get_ref().deregister(socket);
    }

    /// The count of events so far in direction `dir`: note it before a call that may block.
    pub(crate) fn ticks(&self, dir: Dir) -> u64 {
        self.direction(dir).ticks()
    }

    /// The call noted at the count `seen` in direction `dir` would block: ready once an event
    /// came after `seen`, else the task waits for the next one.
    ///
    /// The kernel's answer outranks an event that said the direction had ended (an error
    /// report that was not the connection's end): events decide again, and a task whose call
    /// keeps blocking waits instead of spinning.
    pub(crate) fn poll_would_block(&self, dir: Dir, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        // Cleared before the count is looked at: an end that comes after is also a new count.
        self.direction(dir).ended.store(false, Ordering::Release);
        self.poll_after(dir, seen, cx)
    }

    /// Ready once an event in direction `dir` came after the count `seen`.
    pub(crate) fn poll_after(&self, dir: Dir, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        self.direction(dir).poll_after(seen, cx)
    }

    fn direction(&self, dir: Dir) -> &Direction {
        match dir {
            Dir::Read => &self.source.read,
            Dir::Write => &self.source.write,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut slots = self
            .reactor
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        slots.sources[self.token] = None;
        slots.free.push(self.token);
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("token", &self.token)
            .finish()
    }
}
