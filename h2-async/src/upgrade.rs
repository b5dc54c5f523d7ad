//! An exchange as a two-way byte stream on an async runtime: `h2_http::upgrade::Upgraded`
//! behind tokio's `AsyncRead`/`AsyncWrite` and futures' `AsyncRead`/`AsyncWrite` (async-std,
//! smol), so tokio-tungstenite, async-tungstenite or any protocol crate runs over a WebSocket
//! tunnel of an extended CONNECT (RFC 8441) or an HTTP/1.1 `101` alike.

use crate::{Body, BodySender};
use h2_http::body::Async;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

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
pub struct Upgraded(h2_http::upgrade::Upgraded<Async>);

impl Upgraded {
    /// The stream whose received bytes are `read` and whose sent bytes go to `write`.
    pub fn new(read: Body, write: BodySender) -> Upgraded {
        Upgraded(h2_http::upgrade::Upgraded::new(read, write))
    }
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl tokio::io::AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let data = ready!(self.get_mut().0.poll_read_bytes(cx, buf.remaining()))?;
        buf.put_slice(&data);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_shutdown(cx)
    }
}

impl futures_io::AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let data = ready!(self.get_mut().0.poll_read_bytes(cx, buf.len()))?;
        buf[..data.len()].copy_from_slice(&data);
        Poll::Ready(Ok(data.len()))
    }
}

impl futures_io::AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().0.poll_shutdown(cx)
    }
}
