//! One connection on the loop: its socket, and everything else about it in the shared
//! [`Shell`] (deciding what it speaks, HTTP/1.1, `Upgrade: h2c`, HTTP/2, the write queue and
//! close sequence, its deadline). Here is only the loop's side: reading and writing the
//! socket when the shell says so, the handlers requests go to, and the waker that brings the
//! loop back. The loop (`event_loop.rs`) owns many of these and the readiness, timers and
//! messages that drive them.

use crate::io::{Got, Socket};
use crate::remote::{Ctx, Role};
use bytes::BytesMut;
use h2_http::body::Blocking;
use h2_http::drive::Input;
use h2_http::pool::Seat;
use h2_http::shell::Shell;
use h2core::shell::Accept;
use h2core::Connection;
use std::task::{Context, Waker};
use std::time::Instant;

/// How a connection joins the loop: still to be accepted, or speaking HTTP/2 already.
pub(crate) enum Start {
    Accept(Box<Accept>),
    Http2(Box<Connection>),
}

pub(crate) struct Conn {
    /// Tells a reused slab slot from the connection a message meant.
    pub(crate) id: u64,
    pub(crate) sock: Socket,
    pub(crate) shell: Shell<Blocking>,
    /// Brings the loop back to this connection when a body it sends has more.
    waker: Waker,
    /// The deadline this connection has in the loop's timer heap, if any.
    pub(crate) timer: Option<Instant>,
    /// Registered for write readiness.
    pub(crate) writable: bool,
}

impl Conn {
    /// `read_buf`: bytes already received (after a 101).
    pub(crate) fn new(ctx: &Ctx<'_>, sock: Socket, read_buf: BytesMut, start: Start) -> Conn {
        let (release, route) = (ctx.remote.release(ctx.key), ctx.remote.route(ctx.key));
        let shell = match start {
            Start::Accept(accept) => Shell::accept(*accept, release, route.clone()),
            Start::Http2(conn) => {
                let mut shell = Shell::http2(*conn, release, route.clone(), read_buf);
                if let Some(drive) = shell.drive() {
                    match ctx.role {
                        Role::Server { .. } => {}
                        Role::Client {
                            slots,
                            wake,
                            pushes,
                            header_bytes,
                        } => {
                            let (slots, bytes) = (slots.clone(), header_bytes.clone());
                            let seat = Seat::new(slots, bytes, wake.clone());
                            drive.client(route, Some(pushes.sink()), seat);
                        }
                        #[cfg(feature = "test-hooks")]
                        Role::Tap { events } => {
                            let events = events.clone();
                            drive.tap(Box::new(move |e| {
                                let _ = events.send(e);
                            }));
                        }
                    }
                }
                shell
            }
        };
        Conn {
            id: ctx.key.id,
            sock,
            shell,
            waker: ctx.remote.body_waker(ctx.key),
            timer: None,
            writable: false,
        }
    }

    /// Reads, hands requests to the handlers, sends bodies and runs the close sequence;
    /// true if anything happened.
    pub(crate) fn step(&mut self, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
        let shell = &mut self.shell;
        let mut progress = false;
        if shell.wants_read() {
            match self.sock.read_some(shell.read_buf(), scratch) {
                Got::Nothing => {}
                Got::Progress => progress = true,
                Got::End => {
                    progress = true;
                    shell.handle_eof(None);
                }
            }
        }
        if shell.is_accepting() {
            if let Some(alpn) = self.sock.alpn() {
                progress |= shell.tls_handshake_done(ctx.now, alpn);
            }
        }
        let mut cx = Context::from_waker(&self.waker);
        progress |= shell.poll(ctx.now, &mut cx, |input| match (input, ctx.role) {
            (Input::Request(stream, request), Role::Server { dispatch }) => {
                dispatch(ctx.key, stream, request)
            }
            _ => None,
        });
        progress |= shell.flush(ctx.now, &mut cx);
        let buf = shell.read_buf();
        if buf.is_empty() && buf.capacity() > 4096 {
            // An idle connection keeps no read buffer.
            *buf = BytesMut::new();
        }
        progress | self.sock.close_step(shell, ctx.now)
    }

    /// Writes what it can; true if anything went out. Written batches go back to the core
    /// before the next read ([`Shell::refill`]): flush, take the next batch, until the
    /// socket is full or the core has no more.
    pub(crate) fn write(&mut self, ctx: &Ctx<'_>) -> bool {
        let mut progress = false;
        let flushed = loop {
            match self.sock.flush(self.shell.transport()) {
                Ok(w) => progress |= w,
                Err(e) => break Err(e),
            }
            if !self.shell.refill(ctx.now) {
                break Ok(());
            }
        };
        if let Err(e) = flushed {
            tracing::debug!("write: {e}");
            self.shell.write_failed(ctx.now, e);
        }
        progress
    }
}
