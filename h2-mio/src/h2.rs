//! One HTTP/2 connection on the loop (RFC 9113), driven as on every runtime
//! ([`Drive`](h2_http::drive::Drive): what the socket read goes into the core, its events to
//! the streams, its output into the shell's `Transport`). Only the loop's side is here: the
//! socket, the waker that brings the loop back when a body has more, and the handlers.

use crate::io::Socket;
use crate::remote::{Ctx, Role};
use crate::StreamHandle;
use bytes::{Bytes, BytesMut};
use h2_http::body::Blocking;
use h2_http::drive::{Drive, Input};
use h2_http::handle::Route;
use h2_http::pool::Seat;
use h2_http::session::Session;
use h2core::Connection;
use std::task::{Context, Waker};

pub(crate) struct H2 {
    pub(crate) drive: Drive<Blocking>,
    /// Brings the loop back to this connection when a body it sends has more.
    waker: Waker,
    /// How its handlers reach it (`StreamHandle`).
    route: Route<Blocking>,
    /// The core knows the peer closed its side.
    eof_told: bool,
}

impl H2 {
    /// `conn` on the loop; `unparsed`: the socket's read buffer already holds bytes for it.
    /// After `Upgrade: h2c`, stream 1's request body came over HTTP/1.1 (`upgrade_body`).
    pub(crate) fn new(
        ctx: &Ctx<'_>,
        conn: Connection,
        upgrade_body: Option<Bytes>,
        unparsed: bool,
    ) -> H2 {
        let mut session = Session::new(conn, ctx.remote.release(ctx.key));
        if let Some(body) = upgrade_body {
            session.upgrade_body(body);
        }
        let mut drive = Drive::new(session, unparsed);
        match ctx.role {
            Role::Server { .. } => {}
            Role::Client {
                slots,
                wake,
                pushes,
                header_bytes,
            } => {
                // Responses carry a `RequestHandle` (reprioritize) reaching this connection.
                drive.session.request_handles(ctx.remote.route(ctx.key));
                drive.session.pushes(pushes.sink());
                drive.seat(Seat::new(slots.clone(), header_bytes.clone(), wake.clone()));
            }
            #[cfg(feature = "test-hooks")]
            Role::Tap { events } => {
                let events = events.clone();
                drive.tap(Box::new(move |e| {
                    let _ = events.send(e);
                }));
            }
        }
        H2 {
            drive,
            waker: ctx.remote.body_waker(ctx.key),
            route: ctx.remote.route(ctx.key),
            eof_told: false,
        }
    }

    pub(crate) fn conn(&mut self) -> &mut Connection {
        self.drive.conn()
    }

    /// One round: read, feed the core, hand requests to the handlers, send bodies, take the
    /// core's output.
    pub(crate) fn step(&mut self, s: &mut Socket, ctx: &Ctx<'_>, scratch: &mut [u8]) -> bool {
        let drive = &mut self.drive;
        let mut progress = drive.feed_unparsed(&mut s.read_buf, ctx.now);
        if !progress && drive.wants_read(s.read_closed, &s.transport) && s.read_some(scratch) {
            progress = true;
            drive.received(&mut s.read_buf, ctx.now);
        }
        // Also an EOF read before HTTP/2 began (while accepting: e.g. a TLS record that
        // failed with the handshake's last flight), told after the bytes before it.
        if s.read_closed && !self.eof_told {
            self.eof_told = true;
            progress = true;
            drive.eof(ctx.now, None);
        }
        if s.read_buf.is_empty() && s.read_buf.capacity() > 4096 {
            // An idle connection keeps no read buffer.
            s.read_buf = BytesMut::new();
        }
        let route = &self.route;
        progress |= self.drive.poll(&mut s.transport, ctx.now, |input| {
            let (Input::Request(stream, mut request), Role::Server { dispatch }) =
                (input, ctx.role)
            else {
                return None;
            };
            request
                .extensions_mut()
                .insert(StreamHandle::new(stream, route.clone()));
            dispatch(ctx.key, stream, request)
        });
        let mut cx = Context::from_waker(&self.waker);
        progress | self.drive.flush(&mut cx, &mut s.transport, ctx.now)
    }
}
