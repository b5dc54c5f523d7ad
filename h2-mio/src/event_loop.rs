//! The event loop: one `mio::Poll` over many connections, a slab of connections by token, one
//! timer heap fed by each connection's deadline, and a channel (with a `mio::Waker`) through
//! which handler threads and body senders reach the loop. A connection is first accepted (the
//! shell's [`Accept`](h2core::shell::Accept), made by the server's `ServerOptions`, decides
//! what it speaks), then HTTP/1.1 or HTTP/2; it has no protocol rule of its own.

use crate::conn::{Conn, Start};
use crate::io::{Io, Socket};
use crate::remote::{Ctx, Key, Msg, Remote, Role};
use bytes::BytesMut;
use h2_http::body::Blocking;
use h2_http::drive::Command;
use h2_http::server::ServerOptions;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Where the loop takes `now` from (tests swap in a clock they advance).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The system clock.
pub(crate) fn system_clock() -> Clock {
    Arc::new(Instant::now)
}

const WAKER: Token = Token(usize::MAX);
const LISTENER: Token = Token(usize::MAX - 1);

/// The loop and everything it owns.
pub(crate) struct EventLoop {
    poll: Poll,
    events: Events,
    listener: Option<TcpListener>,
    /// How a server's connections are accepted (cleartext or TLS, HTTP/2 only).
    options: ServerOptions,
    conns: Slab<Conn>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    rx: mpsc::Receiver<Msg>,
    remote: Remote,
    role: Role,
    clock: Clock,
    next_id: u64,
    dirty: Vec<usize>,
    scratch: Box<[u8]>,
    stopping: bool,
    /// Other loops of the same server: accepted connections go round-robin over this loop
    /// (index 0) and these.
    peers: Vec<Remote>,
    next_peer: usize,
    /// Takes connections another loop accepted (`Msg::Adopt`) until the server stops.
    adopting: bool,
}

impl EventLoop {
    /// A loop working for the role `role` makes (which may need the loop's [`Remote`]).
    pub(crate) fn new(clock: Clock, role: impl FnOnce(&Remote) -> Role) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = mpsc::channel();
        let remote = Remote { tx, waker };
        Ok(EventLoop {
            role: role(&remote),
            poll,
            events: Events::with_capacity(1024),
            listener: None,
            options: ServerOptions::new(),
            conns: Slab::new(),
            timers: BinaryHeap::new(),
            rx,
            remote,
            clock,
            next_id: 0,
            dirty: Vec::new(),
            scratch: vec![0; h2core::shell::READ_CHUNK].into_boxed_slice(),
            stopping: false,
            peers: Vec::new(),
            next_peer: 0,
            adopting: false,
        })
    }

    pub(crate) fn remote(&self) -> Remote {
        self.remote.clone()
    }

    pub(crate) fn listen(&mut self, mut listener: TcpListener) -> io::Result<()> {
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        self.listener = Some(listener);
        Ok(())
    }

    /// Shares the connections this loop accepts with `peers`, round-robin.
    pub(crate) fn share_with(&mut self, peers: Vec<Remote>) {
        self.peers = peers;
    }

    /// Serves the connections another loop accepts for it (`Msg::Adopt`), until shut down.
    pub(crate) fn adopt(&mut self) {
        self.adopting = true;
    }

    /// Accepts the connections it is dealt as `options` say (cleartext or TLS, HTTP/2 only).
    pub(crate) fn accept_with(&mut self, options: ServerOptions) {
        self.options = options;
    }

    /// Adds a connection with its TLS session, if any (a client's after its handshake, a
    /// server's before); it is driven at the next turn.
    pub(crate) fn add(
        &mut self,
        mut io: Box<dyn Io>,
        tls: Option<rustls::Connection>,
        read_buf: BytesMut,
        start: Start,
    ) -> io::Result<()> {
        let slot = self.conns.vacant_key();
        self.poll
            .registry()
            .register(&mut *io, Token(slot), Interest::READABLE)?;
        self.next_id += 1;
        let ctx = Ctx {
            now: (self.clock)(),
            key: Key {
                slot,
                id: self.next_id,
            },
            role: &self.role,
            remote: &self.remote,
        };
        let conn = Conn::new(&ctx, Socket::new(io, tls), read_buf, start);
        self.conns.insert(conn);
        self.dirty.push(slot);
        Ok(())
    }

    /// How many connections are open.
    #[cfg(feature = "test-hooks")]
    pub(crate) fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Runs until there is no connection left (and no listener).
    pub(crate) fn run(&mut self) -> io::Result<()> {
        while self.listener.is_some() || self.adopting || !self.conns.is_empty() {
            self.turn(None)?;
        }
        Ok(())
    }

    /// One round: wait for readiness (at most `max_wait`, and not past the earliest timer),
    /// then take messages, fire timers and drive every connection that has something to do.
    pub(crate) fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        let now = (self.clock)();
        let mut wait = self
            .timers
            .peek()
            .map(|Reverse((d, _, _))| d.saturating_duration_since(now));
        if let Some(m) = max_wait {
            wait = Some(wait.map_or(m, |w| w.min(m)));
        }
        if !self.dirty.is_empty() {
            wait = Some(Duration::ZERO);
        }
        if let Err(e) = self.poll.poll(&mut self.events, wait) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let mut accept = false;
        for ev in self.events.iter() {
            match ev.token() {
                WAKER => {}
                LISTENER => accept = true,
                Token(slot) => {
                    let closed = ev.is_read_closed() || ev.is_error();
                    if ev.is_readable() || closed {
                        if let Some(c) = self.conns.get_mut(slot) {
                            c.sock.read_ready(closed);
                        }
                    }
                    self.dirty.push(slot);
                }
            }
        }
        if accept {
            self.accept();
        }
        while let Ok(msg) = self.rx.try_recv() {
            self.message(msg);
        }
        let now = (self.clock)();
        while let Some(Reverse((d, slot, id))) = self.timers.peek().copied() {
            if d > now {
                break;
            }
            self.timers.pop();
            if let Some(c) = self.conns.get_mut(slot) {
                if c.id == id && c.timer == Some(d) {
                    c.timer = None;
                    self.dirty.push(slot);
                }
            }
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for slot in dirty {
            self.drive(slot);
        }
        Ok(())
    }

    /// Drives every connection (tests: after the transport changed behind the loop's back).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn drive_all(&mut self) {
        let slots: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for slot in slots {
            self.conns[slot].sock.read_ready(false);
            self.drive(slot);
        }
    }

    fn accept(&mut self) {
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::trace!(%peer, "accepted");
                    self.next_peer = (self.next_peer + 1) % (self.peers.len() + 1);
                    match self.next_peer {
                        0 => self.serve_accepted(stream),
                        n => {
                            let _ = self.peers[n - 1].send(Msg::Adopt { stream });
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors, most likely: try again at the next readiness.
                    tracing::debug!("accept: {e}");
                    return;
                }
            }
        }
    }

    /// A connection accepted (here, or by another loop of the server) joins this loop.
    fn serve_accepted(&mut self, stream: mio::net::TcpStream) {
        let start = Start::Accept(Box::new(self.options.accept((self.clock)())));
        let session = match self.options.tls() {
            None => None,
            Some(tls) => match rustls::ServerConnection::new(tls.clone()) {
                Ok(session) => Some(rustls::Connection::Server(session)),
                Err(e) => return tracing::debug!("tls: {e}"),
            },
        };
        if let Err(e) = self.add(Box::new(stream), session, BytesMut::new(), start) {
            tracing::debug!("register: {e}");
        }
    }

    pub(crate) fn message(&mut self, msg: Msg) {
        if let Msg::Adopt { stream } = msg {
            // Once stopping, a connection dealt late is dropped: its client sees it closed.
            if !self.stopping {
                self.serve_accepted(stream);
            }
            return;
        }
        let now = (self.clock)();
        let (key, cmd) = match msg {
            Msg::Conn { key, cmd } => (key, Some(cmd)),
            Msg::Body { key } => (Some(key), None),
            Msg::Shutdown => return self.shutdown(now),
            Msg::Adopt { .. } => return,
        };
        let Some((slot, c)) = conn_for(&mut self.conns, key) else {
            return cmd.into_iter().for_each(|cmd| gone(&self.role, cmd));
        };
        if let Some(cmd) = cmd {
            c.shell.command(cmd, now);
        }
        self.dirty.push(slot);
    }

    /// Stops accepting and shuts every connection down gracefully (GOAWAY, RFC 9113 §6.8).
    fn shutdown(&mut self, now: Instant) {
        self.stopping = true;
        self.adopting = false;
        if let Some(mut l) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut l);
        }
        for (slot, c) in self.conns.iter_mut() {
            c.shell.shutdown(now);
            self.dirty.push(slot);
        }
    }

    fn drive(&mut self, slot: usize) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        let ctx = Ctx {
            now: (self.clock)(),
            key: Key { slot, id: c.id },
            role: &self.role,
            remote: &self.remote,
        };
        let scratch = &mut self.scratch;
        // Timers first: whatever fired may have output.
        if c.shell.poll_timeout().is_some_and(|d| d <= ctx.now) {
            c.shell.handle_timeout(ctx.now);
        }
        let mut busy = true;
        for _ in 0..64 {
            let progress = c.step(&ctx, scratch) | c.write(&ctx);
            if c.shell.is_done() || !progress {
                busy = false;
                break;
            }
        }
        if busy {
            // Plenty done in one go: let the others have a turn, then continue.
            self.dirty.push(slot);
        }
        self.finish(slot);
    }

    /// Interest, timer and removal after a connection was driven.
    fn finish(&mut self, slot: usize) {
        let c = &mut self.conns[slot];
        if c.shell.is_done() {
            // Dropped with it: every body sender and reader of its streams fails.
            let mut c = self.conns.remove(slot);
            let _ = self.poll.registry().deregister(&mut *c.sock.io);
            if self.stopping && self.conns.is_empty() {
                self.listener = None;
            }
            return;
        }
        let want_write = c.sock.pending_out(c.shell.transport());
        if want_write != c.writable {
            c.writable = want_write;
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) = self
                .poll
                .registry()
                .reregister(&mut *c.sock.io, Token(slot), interest)
            {
                tracing::debug!("reregister: {e}");
            }
        }
        if let Some(d) = c.shell.poll_timeout() {
            // A later deadline keeps the earlier heap entry: it fires early and is put back.
            if c.timer.is_none_or(|t| d < t) {
                c.timer = Some(d);
                self.timers.push(Reverse((d, slot, c.id)));
            }
        }
    }
}

/// The connection a message is for, if it still exists; client and tap loops have one.
fn conn_for(conns: &mut Slab<Conn>, key: Option<Key>) -> Option<(usize, &mut Conn)> {
    match key {
        Some(k) => match conns.get_mut(k.slot) {
            Some(c) if c.id == k.id => Some((k.slot, c)),
            _ => None,
        },
        None => conns.iter_mut().next(),
    }
}

/// A command whose connection is gone: a client's reserved slot goes back, and its sender
/// learns it (`Command::fail`).
fn gone(role: &Role, cmd: Command<Blocking>) {
    if let (Command::Request { reserved: true, .. }, Role::Client { slots, .. }) = (&cmd, role) {
        slots.release();
    }
    cmd.fail();
}
