//! One connection on the loop: its socket and what it speaks (deciding first, through the
//! shell's [`Accept`], then HTTP/1.1 or HTTP/2), its deadline, and one round of work. The
//! loop (`event_loop.rs`) owns many of these and the readiness, timers and messages that
//! drive them.

use crate::h2::H2;
use crate::http1::H1;
use crate::io::Socket;
use crate::remote::Ctx;
use h2core::shell::{Accept, Accepted};
use h2core::Connection;
use std::time::Instant;

/// How a connection joins the loop: still to be accepted, or speaking HTTP/2 already.
pub(crate) enum Start {
    Accept(Box<Accept>),
    Http2(Box<Connection>),
}

/// What a connection speaks.
pub(crate) enum Proto {
    /// Not decided yet.
    Accept(Box<Accept>),
    H1(Box<H1>),
    H2(Box<H2>),
    Gone,
}

pub(crate) struct Conn {
    /// Tells a reused slab slot from the connection a message meant.
    pub(crate) id: u64,
    pub(crate) sock: Socket,
    pub(crate) proto: Proto,
    /// The deadline this connection has in the loop's timer heap, if any.
    pub(crate) timer: Option<Instant>,
    /// Registered for write readiness.
    pub(crate) writable: bool,
    /// Drop at once (nothing to say, or nothing can be written).
    pub(crate) done: bool,
}

impl Conn {
    pub(crate) fn new(ctx: &Ctx<'_>, sock: Socket, start: Start) -> Conn {
        let proto = match start {
            Start::Accept(a) => Proto::Accept(a),
            Start::Http2(conn) => {
                let h2 = H2::new(ctx, *conn, None, !sock.read_buf.is_empty());
                Proto::H2(Box::new(h2))
            }
        };
        Conn {
            id: ctx.key.id,
            sock,
            proto,
            timer: None,
            writable: false,
            done: false,
        }
    }

    /// The connection's one deadline.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        // While closing, only the close sequence's deadlines count.
        self.sock.transport.poll_timeout().or(match &self.proto {
            _ if self.sock.transport.is_closing() => None,
            Proto::Accept(a) => a.poll_timeout(),
            Proto::H1(h1) => h1.server.poll_timeout(),
            Proto::H2(h2) => h2.drive.session.conn.poll_timeout(),
            Proto::Gone => None,
        })
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done || self.sock.transport.is_done()
    }

    /// A deadline passed.
    pub(crate) fn fire(&mut self, ctx: &Ctx<'_>) {
        if self.sock.transport.is_closing() {
            return self.sock.transport.handle_timeout(ctx.now);
        }
        match &mut self.proto {
            Proto::Accept(a) => {
                let accepted = a.handle_timeout(ctx.now, &self.sock.read_buf);
                self.decide(ctx, accepted);
            }
            Proto::H1(h1) => h1.server.handle_timeout(&mut self.sock.transport, ctx.now),
            Proto::H2(h2) => h2.conn().handle_timeout(ctx.now),
            Proto::Gone => {}
        }
    }

    /// What an accepted connection speaks was decided (or not yet: `None`).
    fn decide(&mut self, ctx: &Ctx<'_>, accepted: Option<Accepted>) {
        self.proto = match accepted {
            None => return,
            Some(Accepted::Http2(conn)) => {
                let unparsed = !self.sock.read_buf.is_empty();
                Proto::H2(Box::new(H2::new(ctx, *conn, None, unparsed)))
            }
            Some(Accepted::Http1 { secure }) => Proto::H1(Box::new(H1::new(ctx, secure))),
            Some(Accepted::Close) => {
                self.done = true;
                Proto::Gone
            }
        };
    }

    /// Reads and handles what it can; true if anything happened.
    pub(crate) fn step(&mut self, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
        let mut progress = false;
        let (closing, lingering) = (
            self.sock.transport.is_closing(),
            self.sock.transport.is_lingering(),
        );
        let mut proto = std::mem::replace(&mut self.proto, Proto::Gone);
        match &mut proto {
            Proto::Accept(a) if !closing => {
                progress = self.sock.read_some(scratch);
                let accepted = match self.sock.alpn() {
                    Some(alpn) => a.tls_handshake_done(ctx.now, alpn),
                    None => a.poll(ctx.now, &self.sock.read_buf, self.sock.read_closed),
                };
                // A TLS client that leaves before its handshake is done.
                self.done |= accepted.is_none() && self.sock.read_closed;
                self.proto = proto;
                progress |= accepted.is_some();
                self.decide(ctx, accepted);
                return progress;
            }
            Proto::H1(h1) if !lingering => {
                if let Some(upgraded) = h1.step(&mut self.sock, ctx, scratch, &mut progress) {
                    proto = Proto::H2(Box::new(upgraded));
                    progress = true;
                } else if h1.server.is_over() {
                    self.sock.transport.close(ctx.now);
                }
            }
            // Also while flushing: the core's last frames are still taken.
            Proto::H2(h2) if !lingering => progress = h2.step(&mut self.sock, ctx, scratch),
            _ => {}
        }
        self.proto = proto;
        self.sock.close_step(ctx.now, scratch);
        progress
    }

    /// Writes what it can; true if anything went out. Written batches go back to the core
    /// before the next read, which its flood limits need (a batch counts as unwritten until
    /// `poll_transmit` is called again): flush, take the next batch, until the socket is full
    /// or the core has no more.
    pub(crate) fn write(&mut self, ctx: &Ctx<'_>) -> bool {
        let mut progress = false;
        let flushed = loop {
            match self.sock.flush() {
                Ok(w) => progress |= w,
                Err(e) => break Err(e),
            }
            let refilled = match &mut self.proto {
                Proto::H2(h2) if self.sock.transport.is_empty() => {
                    self.sock.transport.pump(h2.conn(), ctx.now)
                }
                _ => false,
            };
            if !refilled {
                break Ok(());
            }
        };
        if let Err(e) = flushed {
            tracing::debug!("write: {e}");
            match &mut self.proto {
                Proto::H2(h2) => h2.drive.write_failed(&mut self.sock.transport, ctx.now, e),
                _ => self.sock.transport.handle_write_error(),
            }
        }
        progress
    }
}
