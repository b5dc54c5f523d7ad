//! HTTP/1.1 on the loop: the exchanges are `h2_http::http1` (the same on every runtime); here
//! the socket is read while the server wants more, requests go to the handler threads, and
//! an `Upgrade: h2c` becomes the loop's HTTP/2 connection.

use crate::h2::H2;
use crate::io::Socket;
use crate::remote::{Ctx, Role};
use h2_http::body::Blocking;
use h2_http::http1::{Http1Server, Step, Wire};
use h2core::StreamId;
use std::task::{Context, Waker};

pub(crate) struct H1 {
    pub(crate) server: Http1Server<Blocking>,
    /// Brings the loop back when the response body has more.
    waker: Waker,
}

impl H1 {
    /// `secure`: the connection is TLS.
    pub(crate) fn new(ctx: &Ctx<'_>, secure: bool) -> H1 {
        let (release, route) = (ctx.remote.release(ctx.key), ctx.remote.route(ctx.key));
        H1 {
            server: Http1Server::new(ctx.config, ctx.now, secure, release, route),
            waker: ctx.remote.body_waker(ctx.key),
        }
    }

    /// Reads and answers what it can; returns the HTTP/2 connection after an `Upgrade: h2c`.
    pub(crate) fn step(
        &mut self,
        s: &mut Socket,
        ctx: &Ctx<'_>,
        scratch: &mut [u8],
        progress: &mut bool,
    ) -> Option<H2> {
        if self.server.wants_read(s.read_buf.len()) && s.read_some(scratch) {
            *progress = true;
        }
        let mut wire = Wire {
            read_buf: &mut s.read_buf,
            read_closed: s.read_closed,
            transport: &mut s.transport,
        };
        let mut cx = Context::from_waker(&self.waker);
        match self.server.step(&mut wire, ctx.now, &mut cx, progress) {
            Step::Idle => None,
            Step::Request(request) => {
                match ctx.role {
                    Role::Server { dispatch } => {
                        if let Some(response) = dispatch(ctx.key, StreamId::ZERO, request) {
                            self.server.respond(&mut s.transport, Some(response));
                        }
                    }
                    _ => self.server.shutdown(),
                }
                None
            }
            Step::Upgraded(conn, body) => {
                let unparsed = !s.read_buf.is_empty();
                Some(H2::new(ctx, *conn, Some(body), unparsed))
            }
        }
    }
}
