//! An exchange as a two-way byte stream on an async runtime: `h2_http::upgrade::Upgraded`
//! behind tokio's `AsyncRead`/`AsyncWrite` and futures' `AsyncRead`/`AsyncWrite` (async-std,
//! smol), so tokio-tungstenite, async-tungstenite or any protocol crate runs over a WebSocket
//! tunnel of an extended CONNECT (RFC 8441) or an HTTP/1.1 `101` alike.

use crate::{Body, BodySender};
use bytes::{Buf, Bytes};
use h2_http::body::Async;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The stream of an accepted extended CONNECT (or HTTP/1.1 upgrade), or of a client's one, as
/// a byte stream: reads take what the peer sends (returned to flow control as read), writes
/// go out under flow control, shutdown ends our side (HTTP/2: END_STREAM).
///
/// A server handler makes one from the request body and the sender of its response body, and
/// answers `200` (HTTP/2 extended CONNECT) or `101` (HTTP/1.1 `Upgrade`) with that body:
/// ```
/// # use h2_async::{Body, upgrade::Upgraded};
/// # fn handler(req: http::Request<Body>) -> http::Response<Body> {
/// let (tx, body) = Body::channel();
/// let tunnel = Upgraded::new(req.into_body(), tx);
/// // spawn a task that reads and writes `tunnel`
/// # drop(tunnel);
/// http::Response::new(body)
/// # }
/// ```
/// A client sends `CONNECT` with `h2_http::Protocol` in its extensions and a
/// [`Body::channel`] body, then makes one from the response body and that channel's sender.
/// A client's WebSocket over HTTP/1.1 (`client::websocket_http1`, RFC 6455 §4.1) is one too:
/// then it is the connection itself after the `101`, read and written directly.
pub struct Upgraded(Inner);

enum Inner {
    /// An HTTP/2 stream, or a server's HTTP/1.1 connection tunnelled by its task.
    Stream(h2_http::upgrade::Upgraded<Async>),
    /// A client's HTTP/1.1 connection after `101`: the bytes read past the response head
    /// first, then the transport. In a `Mutex` only so that `Upgraded` stays `Sync` whatever
    /// the transport; reached through `&mut`, never locked.
    Connection {
        pending: Bytes,
        io: Mutex<Box<dyn Io>>,
    },
}

/// A transport a client's HTTP/1.1 WebSocket runs on (tokio's traits; futures-io ones through
/// h2-async-std's `Compat`).
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

impl Upgraded {
    /// The stream whose received bytes are `read` and whose sent bytes go to `write`.
    pub fn new(read: Body, write: BodySender) -> Upgraded {
        Upgraded(Inner::Stream(h2_http::upgrade::Upgraded::new(read, write)))
    }

    /// A connection that switched protocols (RFC 9110 §7.8): `pending` (read past the `101`'s
    /// head) comes first, then what `io` reads.
    pub(crate) fn connection<IO>(io: IO, pending: Bytes) -> Upgraded
    where
        IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        Upgraded(Inner::Connection {
            pending,
            io: Mutex::new(Box::new(io)),
        })
    }

    /// tokio's `poll_read`, for both traits.
    fn read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Inner::Stream(s) => {
                let data = ready!(s.poll_read_bytes(cx, buf.remaining()))?;
                buf.put_slice(&data);
                Poll::Ready(Ok(()))
            }
            Inner::Connection { pending, .. } if !pending.is_empty() => {
                let n = pending.len().min(buf.remaining());
                buf.put_slice(&pending[..n]);
                pending.advance(n);
                Poll::Ready(Ok(()))
            }
            Inner::Connection { io, .. } => Pin::new(transport(io)).poll_read(cx, buf),
        }
    }

    fn write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Inner::Stream(s) => s.poll_write(cx, buf),
            Inner::Connection { io, .. } => Pin::new(transport(io)).poll_write(cx, buf),
        }
    }

    fn write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Inner::Stream(s) => {
                let buf = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
                s.poll_write(cx, buf)
            }
            Inner::Connection { io, .. } => Pin::new(transport(io)).poll_write_vectored(cx, bufs),
        }
    }

    fn flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Inner::Stream(s) => s.poll_flush(cx),
            Inner::Connection { io, .. } => Pin::new(transport(io)).poll_flush(cx),
        }
    }

    fn shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Inner::Stream(s) => s.poll_shutdown(cx),
            Inner::Connection { io, .. } => Pin::new(transport(io)).poll_shutdown(cx),
        }
    }
}

fn transport(io: &mut Mutex<Box<dyn Io>>) -> &mut Box<dyn Io> {
    io.get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Stream(s) => s.fmt(f),
            Inner::Connection { pending, .. } => f
                .debug_struct("Upgraded")
                .field("connection", &true)
                .field("pending", &pending.len())
                .finish(),
        }
    }
}

impl tokio::io::AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        matches!(self.0, Inner::Connection { .. })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().shutdown(cx)
    }
}

impl futures_io::AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(self.get_mut().read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl futures_io::AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().shutdown(cx)
    }
}
