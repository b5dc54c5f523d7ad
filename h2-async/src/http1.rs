//! HTTP/1.1 on the same port as h2c, with the same handler: the exchanges are
//! `h2_http::http1` (the same on every runtime); this task reads the socket while the server
//! wants more, writes what it queues, runs each request's handler as a task of its own, and
//! hands an `Upgrade: h2c` over to HTTP/2.

use crate::handler::Handler;
use crate::rt::{Runtime, Timer};
use crate::Body;
use bytes::{Bytes, BytesMut};
use h2_http::body::Async;
use h2_http::handle::Route;
use h2_http::http1::{Http1Server, Step, Wire};
use h2_http::Error;
use h2core::shell::Transport;
use h2core::{Config, Connection};
use http::Response;
use std::future::{poll_fn, Future};
use std::io::IoSlice;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};

pub use h2_http::http1::Http1HeadLen;

/// How an HTTP/1.1 connection ended.
pub(crate) enum Http1End<IO> {
    /// The connection is closed.
    Closed,
    /// `Upgrade: h2c` switched it to HTTP/2 (RFC 7540 §3.2): drive `conn` on `io`, `buf` first;
    /// the upgrade request is stream 1, with this whole `body`.
    Upgraded {
        io: IO,
        buf: BytesMut,
        conn: Box<Connection>,
        body: Bytes,
    },
}

/// Serves HTTP/1.1 on `io`, whose first bytes are in `buf`, until the connection closes or
/// switches to h2c. Over TLS (`secure`), requests are `https` and `Upgrade: h2c` is ignored.
pub(crate) async fn serve<R, IO>(
    mut io: IO,
    mut buf: BytesMut,
    config: &Config,
    handler: &Handler,
    mut stop: watch::Receiver<bool>,
    secure: bool,
) -> Result<Http1End<IO>, Error>
where
    R: Runtime,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (consumed_tx, mut consumed_rx) = mpsc::unbounded_channel();
    let release = Arc::new(move |tag, c| {
        let _ = consumed_tx.send((tag, c));
    });
    // What the handler's StreamHandle asks for (over HTTP/1.1: interim responses only).
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let route: Route<Async> = Arc::new(move |cmd| cmd_tx.send(cmd).is_ok());
    let mut server = Http1Server::<Async>::new(config, R::now(), secure, release, route);
    let mut transport = Transport::new();
    let mut read_closed = false;
    let mut timer = Timer::new(R::sleep_until(R::now() + Duration::from_secs(3600)));
    // The running handler's answer; `Err`: it panicked.
    let mut answer: Option<oneshot::Receiver<Response<Body>>> = None;
    let mut upgraded = None;
    let mut stopped = pin!(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    let mut stopping = false;
    poll_fn(|cx| {
        for _ in 0..64 {
            let mut progress = false;
            if !stopping && stopped.as_mut().poll(cx).is_ready() {
                stopping = true;
                server.shutdown();
                progress = true;
            }
            while let Poll::Ready(Some(cmd)) = cmd_rx.poll_recv(cx) {
                server.stream_command(&mut transport, cmd);
                progress = true;
            }
            while let Poll::Ready(Some((tag, c))) = consumed_rx.poll_recv(cx) {
                server.consumed(&mut transport, tag, c);
                progress = true;
            }
            if let Some(Poll::Ready(resp)) = answer.as_mut().map(|rx| Pin::new(rx).poll(cx)) {
                answer = None;
                server.respond(&mut transport, resp.ok());
                progress = true;
            }
            if upgraded.is_none() && !read_closed && server.wants_read(buf.len()) {
                buf.reserve(h2core::shell::READ_CHUNK);
                match tokio_util::io::poll_read_buf(Pin::new(&mut io), cx, &mut buf) {
                    Poll::Ready(Ok(n)) => {
                        read_closed = n == 0;
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                    Poll::Pending => {}
                }
            }
            if upgraded.is_none() {
                let mut wire = Wire {
                    read_buf: &mut buf,
                    read_closed,
                    transport: &mut transport,
                };
                match server.step(&mut wire, R::now(), cx, &mut progress) {
                    Step::Idle => {}
                    Step::Request(req) => {
                        // The handler runs as its own task; if it panics, its sender is
                        // dropped unsent.
                        let (tx, rx) = oneshot::channel();
                        let handling = handler(req);
                        R::spawn(async move {
                            let _ = tx.send(handling.await);
                        });
                        answer = Some(rx);
                    }
                    Step::Upgraded(conn, body) => upgraded = Some((conn, body)),
                }
            }
            while !transport.is_empty() {
                let mut slices = [IoSlice::new(&[]); 16];
                let n = transport.io_slices(&mut slices);
                match Pin::new(&mut io).poll_write_vectored(cx, &slices[..n]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(Error::Io(std::io::ErrorKind::WriteZero.into())))
                    }
                    Poll::Ready(Ok(n)) => {
                        transport.advance(n);
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                    Poll::Pending => break,
                }
            }
            if transport.is_empty() && (upgraded.is_some() || server.is_over()) {
                return Poll::Ready(Ok(()));
            }
            if let Some(deadline) = server.poll_timeout() {
                if timer.poll_at(cx, deadline) {
                    server.handle_timeout(&mut transport, R::now());
                    progress = true;
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Plenty done in one go: let other tasks run, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await?;
    match upgraded {
        Some((conn, body)) => Ok(Http1End::Upgraded {
            io,
            buf,
            conn,
            body,
        }),
        None => {
            let _ = io.shutdown().await;
            Ok(Http1End::Closed)
        }
    }
}
