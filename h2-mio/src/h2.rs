//! One HTTP/2 connection on the loop (RFC 9113): what the socket read goes into the core, its
//! events go to the streams (`h2_http::session`, the same on every runtime), and its output
//! goes out through the shell's [`Transport`](h2core::shell::Transport). Only the loop's side
//! is here: the socket, the waker that brings the loop back when a body has more, and the
//! client pool's view of the connection.

use crate::io::Socket;
use crate::remote::{Ctx, Role};
use crate::StreamHandle;
use bytes::{Bytes, BytesMut};
use h2_http::body::Blocking;
use h2_http::handle::Route;
use h2_http::session::Session;
use h2core::Connection;
use std::sync::atomic::Ordering;
use std::task::{Context, Waker};

pub(crate) struct H2 {
    pub(crate) session: Session<Blocking>,
    /// Brings the loop back to this connection when a body it sends has more.
    waker: Waker,
    /// How its handlers reach it (`StreamHandle`).
    route: Route<Blocking>,
    /// `read_buf` holds bytes not yet fed to the core (the sniffed preface, what followed 101).
    unparsed: bool,
    /// Client: the header bytes already added to the pool's count.
    header_bytes_counted: u64,
}

impl H2 {
    pub(crate) fn new(ctx: &Ctx<'_>, conn: Connection, upgrade_body: Option<Bytes>) -> H2 {
        let mut session = Session::new(conn, ctx.remote.release(ctx.key));
        if let Some(body) = upgrade_body {
            session.upgrade_body(body);
        }
        if let Role::Client { pushes, .. } = ctx.role {
            let pushes = pushes.clone();
            session.pushes(Box::new(move |promise| {
                let listener = pushes.lock().ok().and_then(|p| p.clone());
                listener.is_some_and(|l| l.send(promise).is_ok())
            }));
        }
        H2 {
            session,
            waker: ctx.remote.body_waker(ctx.key),
            route: ctx.remote.route(ctx.key),
            unparsed: false,
            header_bytes_counted: 0,
        }
    }

    /// `read_buf` already holds bytes for the core, fed at the next step.
    pub(crate) fn unparsed(mut self, unparsed: bool) -> H2 {
        self.unparsed = unparsed;
        self
    }

    pub(crate) fn conn(&mut self) -> &mut Connection {
        &mut self.session.conn
    }

    /// One round: read, feed the core, handle its events, send bodies, take its output.
    pub(crate) fn step(&mut self, s: &mut Socket, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
        let mut progress = false;
        let conn = &mut self.session.conn;
        if self.unparsed {
            // Fed as one read, before any more is read: its replies go out first.
            self.unparsed = false;
            let _ = conn.handle_input(ctx.now, &mut s.read_buf);
            progress = true;
        } else if conn.wants_read() && s.read_some(scratch) {
            progress = true;
            if !s.read_buf.is_empty() {
                let _ = conn.handle_input(ctx.now, &mut s.read_buf);
            }
            if s.read_closed {
                conn.handle_eof(ctx.now);
            }
        }
        if s.read_buf.is_empty() && s.read_buf.capacity() > 4096 {
            // An idle connection keeps no read buffer.
            s.read_buf = BytesMut::new();
        }
        progress |= self.events(s, ctx);
        progress |= self
            .session
            .poll_bodies(&mut Context::from_waker(&self.waker));
        self.session.cleanup();
        let progress = progress | s.transport.pump(&mut self.session.conn, ctx.now);
        if let Role::Client {
            slots,
            wake,
            header_bytes,
            ..
        } = ctx.role
        {
            if slots.update(&self.session.conn) {
                wake();
            }
            let sent = self.session.conn.stats().header_bytes_sent;
            header_bytes.fetch_add(sent - self.header_bytes_counted, Ordering::Relaxed);
            self.header_bytes_counted = sent;
        }
        progress
    }

    /// Writing failed: the connection is over for the core too.
    pub(crate) fn write_failed(&mut self, s: &mut Socket, ctx: &Ctx<'_>) {
        self.session.conn.handle_eof(ctx.now);
        self.events(s, ctx);
    }

    fn events(&mut self, s: &mut Socket, ctx: &Ctx<'_>) -> bool {
        let mut progress = false;
        while let Some(ev) = self.session.conn.poll_event() {
            progress = true;
            s.transport.observe(&self.session.conn, &ev);
            match ctx.role {
                #[cfg(feature = "test-hooks")]
                Role::Tap { events } => {
                    let _ = events.send(ev);
                    continue;
                }
                Role::Client { slots, wake, .. } => {
                    if slots.observe(&self.session.conn, &ev) {
                        wake();
                    }
                }
                Role::Server { .. } => {}
            }
            if let Some((stream, mut request)) = self.session.event(ev) {
                if let Role::Server { dispatch } = ctx.role {
                    let handle = StreamHandle::new(stream, self.route.clone());
                    request.extensions_mut().insert(handle);
                    if let Some(response) = dispatch(ctx.key, stream, request) {
                        self.session.send_response(stream, response);
                    }
                }
            }
        }
        progress
    }
}
