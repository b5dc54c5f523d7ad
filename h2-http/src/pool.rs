//! A client's connections to one origin, on any runtime: which one takes a request (the
//! shell's rules, `h2core::shell::pool`: one with room, else the one being opened, else a new
//! one, which takes requests once the server's SETTINGS arrived), who waits, and the
//! counters. The client ([`crate::client`]) opens connections through its adapter and sends
//! on them; waiting is a [`Signal`], which a thread blocks on and a task polls.

use h2core::shell::pool::{self, Pick, Slots};
use h2core::{Connection, Event};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Counters of a client since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Connections opened, the first one included.
    pub connections_opened: u64,
    /// HEADERS + CONTINUATION payload bytes (compressed header blocks) sent on all of them.
    pub header_bytes_sent: u64,
    /// Requests sent again after a refusal or a failed connection.
    pub retries: u64,
}

/// A connection as the pool sees it: its request slots.
pub trait Member: Clone {
    /// The connection's request slots (`h2core::shell::pool::Slots`).
    fn slots(&self) -> &Slots;
}

/// The connections of one client.
pub struct Pool<C: Member> {
    state: Mutex<State<C>>,
    signal: Arc<Signal>,
    opened: AtomicU64,
    retries: AtomicU64,
    header_bytes: Arc<AtomicU64>,
    /// Connections the server told `too_many_pings` (`h2core::shell::pool::keepalive_backoff`).
    ping_backoffs: AtomicU32,
}

struct State<C> {
    /// Connections that may take new requests.
    conns: Vec<C>,
    /// Connections being opened.
    opening: usize,
}

/// What a request does next, from [`Pool::choose`].
pub enum Choice<'a, C: Member> {
    /// Send on this connection: a slot is reserved for the request.
    Use(C),
    /// Open a connection, and hand it to [`Opening::done`].
    Open(Opening<'a, C>),
    /// Wait until the pool's signal moves past this generation, then choose again.
    Wait(u64),
}

impl<C: Member> Default for Pool<C> {
    fn default() -> Self {
        Pool {
            state: Mutex::new(State {
                conns: Vec::new(),
                opening: 0,
            }),
            signal: Arc::default(),
            opened: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            header_bytes: Arc::default(),
            ping_backoffs: AtomicU32::new(0),
        }
    }
}

impl<C: Member> Pool<C> {
    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the connections that take no more requests; one the server told
    /// `too_many_pings` makes the next connections ping half as often.
    fn prune(&self, conns: &mut Vec<C>) {
        conns.retain(|c| {
            let slots = c.slots();
            if slots.is_closing() && slots.too_many_pings() {
                self.ping_backoffs.fetch_add(1, Ordering::Relaxed);
            }
            !slots.is_closing()
        });
    }

    /// The config of the next connection to open: `base`, its keepalive backed off as servers
    /// asked (`h2core::shell::pool::keepalive_backoff`).
    pub fn config(&self, base: &h2core::Config) -> h2core::Config {
        let backoffs = self.ping_backoffs.load(Ordering::Relaxed);
        pool::keepalive_backoff(base, backoffs)
    }

    /// Where a request goes (see [`Choice`]).
    pub fn choose(&self) -> Choice<'_, C> {
        let seen = self.signal.generation();
        let mut s = self.lock();
        self.prune(&mut s.conns);
        match pool::pick(s.conns.iter().map(|c| c.slots()), s.opening) {
            Pick::Use(i) => Choice::Use(s.conns[i].clone()),
            Pick::Open => {
                s.opening += 1;
                Choice::Open(Opening(self))
            }
            Pick::Wait => Choice::Wait(seen),
        }
    }

    /// A connection opened outside [`Pool::choose`] (a client's first) takes requests.
    pub fn add(&self, conn: C) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.lock().conns.push(conn);
        self.signal.notify();
    }

    /// Connections that take new requests.
    pub fn connections(&self) -> usize {
        let mut s = self.lock();
        self.prune(&mut s.conns);
        s.conns.len()
    }

    /// The connections that take new requests, without reserving anything on them.
    pub fn members(&self) -> Vec<C> {
        let mut s = self.lock();
        self.prune(&mut s.conns);
        s.conns.clone()
    }

    /// Takes every connection out of the pool (to shut them down): requests from now on open
    /// new ones.
    pub fn take_all(&self) -> Vec<C> {
        std::mem::take(&mut self.lock().conns)
    }

    /// A request is sent again.
    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Where connections add the header bytes they send.
    pub fn header_bytes(&self) -> Arc<AtomicU64> {
        self.header_bytes.clone()
    }

    /// What wakes whoever waits on this pool.
    pub fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            connections_opened: self.opened.load(Ordering::Relaxed),
            header_bytes_sent: self.header_bytes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// A connection being opened; dropped (done, failed or given up) it wakes the requests that
/// waited for it.
pub struct Opening<'a, C: Member>(&'a Pool<C>);

impl<C: Member> Opening<'_, C> {
    /// The connection is open and the server's SETTINGS arrived: it takes requests, the
    /// first slot reserved for the request that opened it (ours before the waiters take the
    /// rest; a server that allows no stream at all: the core queues it until it does).
    pub fn done(self, conn: C) {
        if !conn.slots().try_reserve() {
            conn.slots().force_reserve();
        }
        self.0.add(conn);
    }
}

impl<C: Member> Drop for Opening<'_, C> {
    fn drop(&mut self) {
        self.0.lock().opening -= 1;
        self.0.signal.notify();
    }
}

/// One client connection's place in its pool, kept by the connection's driver
/// ([`crate::drive::Drive::seat`]): its request slots follow the core's events and streams,
/// the header bytes it sends add to the pool's count, and `wake` tells the requests waiting
/// on it to look again.
pub struct Seat {
    slots: Arc<Slots>,
    header_bytes: Arc<AtomicU64>,
    /// The header bytes already added to `header_bytes`.
    counted: u64,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Seat {
    /// The connection with these `slots`, adding to `header_bytes`, waking through `wake`.
    pub fn new(
        slots: Arc<Slots>,
        header_bytes: Arc<AtomicU64>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Seat {
        Seat {
            slots,
            header_bytes,
            counted: 0,
            wake,
        }
    }

    /// Called with each event of the core, before it is handled (`Slots::observe`).
    pub fn observe(&self, conn: &Connection, event: &Event) {
        if self.slots.observe(conn, event) {
            (self.wake)();
        }
    }

    /// After each round, and after a request opened its stream: publishes the streams in use
    /// and the header bytes sent.
    pub fn update(&mut self, conn: &Connection) {
        if self.slots.update(conn) {
            (self.wake)();
        }
        let sent = conn.stats().header_bytes_sent;
        if sent != self.counted {
            self.header_bytes
                .fetch_add(sent - self.counted, Ordering::Relaxed);
            self.counted = sent;
        }
    }

    /// A request that held a reserved slot opened its stream (or failed): the slot is free.
    pub fn release(&self) {
        self.slots.release();
    }

    /// The connection is over: its counts are final and it takes no more requests.
    pub fn finish(&mut self, conn: &Connection) {
        self.update(conn);
        if self.slots.finish() {
            (self.wake)();
        }
    }
}

/// Wakes whoever waits on a pool or a connection (a connection became ready, went away,
/// finished opening, ended): threads block on it, tasks poll it. A generation counter, so a
/// wake between a check and the wait is not lost. It also counts the connections still
/// running ([`Signal::running`]), so a client can wait for all of them to end.
#[derive(Default)]
pub struct Signal {
    state: Mutex<SignalState>,
    changed: Condvar,
}

#[derive(Default)]
struct SignalState {
    generation: u64,
    running: usize,
    wakers: Vec<Waker>,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Something changed: wakes every waiter.
    pub fn notify(&self) {
        let mut s = self.lock();
        s.generation += 1;
        let wakers = std::mem::take(&mut s.wakers);
        drop(s);
        wakers.into_iter().for_each(Waker::wake);
        self.changed.notify_all();
    }

    /// Blocks until the generation moved past `seen`; false if `timeout` passed first.
    pub fn wait_timeout(&self, seen: u64, timeout: Duration) -> bool {
        let s = self.lock();
        let (s, _) = self
            .changed
            .wait_timeout_while(s, timeout, |s| s.generation == seen)
            .unwrap_or_else(|e| e.into_inner());
        s.generation != seen
    }

    /// Ready once the generation moved past `seen`.
    pub fn poll_changed(&self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.lock();
        if s.generation != seen {
            return Poll::Ready(());
        }
        if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            s.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// A connection's task or loop runs until the returned guard drops.
    pub fn running(self: &Arc<Self>) -> Running {
        self.lock().running += 1;
        Running(self.clone())
    }

    /// How many connections still run.
    pub fn running_count(&self) -> usize {
        self.lock().running
    }
}

/// Held by a running connection (see [`Signal::running`]).
pub struct Running(Arc<Signal>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.lock().running -= 1;
        self.0.notify();
    }
}
