//! A stream used as a two-way byte stream: the tunnel of an extended CONNECT (RFC 8441 §4: a
//! WebSocket over HTTP/2, §5), of a plain CONNECT (RFC 9113 §8.5), or an HTTP/1.1 connection
//! after `101 Switching Protocols` (RFC 9110 §7.8, RFC 6455 §4). The same on every transport
//! and runtime: what the peer sends is a received [`Body`] (its bytes go back to flow control as
//! they are read, RFC 9113 §5.2), what we send is a [`Body::channel`] under flow control;
//! shutting down the write side ends our body (HTTP/2: END_STREAM).
//!
//! A server handler builds one from the request's body and the sender of its response's body,
//! and answers 2xx (HTTP/2) or 101 (HTTP/1.1) with that body; a client from the response's body
//! and the sender of its request's body. Async adapters wrap it in their runtime's
//! `AsyncRead`/`AsyncWrite`; a blocking one reads and writes it through `std::io`.

use crate::body::{Async, Blocking, Body, BodySender, Frame, Mode};
use crate::Error;
use bytes::Bytes;
use std::io;
use std::task::{Context, Poll};

/// An exchange turned into a byte stream both ways (see the module doc).
pub struct Upgraded<M: Mode> {
    read: Body<M>,
    /// Received and not yet handed to the reader.
    pending: Bytes,
    /// The peer's side ended (its END_STREAM, or trailers, which a tunnel has no use for).
    eof: bool,
    /// `None` once shut down.
    write: Option<BodySender<M>>,
}

impl<M: Mode> Upgraded<M> {
    /// The stream whose received bytes are `read` and whose sent bytes go to `write`.
    pub fn new(read: Body<M>, write: BodySender<M>) -> Upgraded<M> {
        Upgraded {
            read,
            pending: Bytes::new(),
            eof: false,
            write: Some(write),
        }
    }

    /// Up to `max` bytes of what was received, from what one chunk held.
    fn take(&mut self, max: usize) -> Bytes {
        let n = max.min(self.pending.len());
        self.pending.split_to(n)
    }

    /// A received chunk, or the end.
    fn got(&mut self, frame: Option<Result<Frame, Error>>) -> io::Result<()> {
        match frame {
            Some(Ok(Frame::Data(d))) => self.pending = d,
            Some(Ok(Frame::Trailers(_))) | None => self.eof = true,
            Some(Err(e)) => return Err(io_error(e)),
        }
        Ok(())
    }

    fn sender(&mut self) -> io::Result<&mut BodySender<M>> {
        self.write
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "write side shut down"))
    }
}

/// A failed stream as `std::io` says it: a reset is `ConnectionReset`, a stream whose reader or
/// connection went away `BrokenPipe`.
fn io_error(e: Error) -> io::Error {
    let kind = match e {
        Error::Reset(_) | Error::Connection { .. } => io::ErrorKind::ConnectionReset,
        Error::BodyDropped | Error::ConnectionGone => io::ErrorKind::BrokenPipe,
        Error::Io(e) => return e,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

impl Upgraded<Async> {
    /// Up to `max` received bytes; empty at the end of the peer's side. `cx` is woken when
    /// more arrives.
    pub fn poll_read_bytes(&mut self, cx: &mut Context<'_>, max: usize) -> Poll<io::Result<Bytes>> {
        while self.pending.is_empty() && !self.eof && max > 0 {
            let frame = std::task::ready!(self.read.poll_frame(cx));
            self.got(frame)?;
        }
        Poll::Ready(Ok(self.take(max)))
    }

    /// Queues `buf` to be sent as flow control allows; waits (`cx` is woken) while more than
    /// [`HIGH_WATER`](crate::body::HIGH_WATER) waits to go out.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let tx = self.sender()?;
        std::task::ready!(tx.poll_room(cx)).map_err(io_error)?;
        tx.push_data(Bytes::copy_from_slice(buf), false)
            .map_err(io_error)?;
        Poll::Ready(Ok(buf.len()))
    }

    /// Ready at once: the connection sends what was queued as fast as flow control allows.
    pub fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Ends our side: HTTP/2 END_STREAM once what was queued is out, HTTP/1.1 the end of the
    /// connection's writes. Reading goes on.
    pub fn poll_shutdown(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.write = None;
        Poll::Ready(Ok(()))
    }
}

impl io::Read for Upgraded<Blocking> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() && !self.eof && !buf.is_empty() {
            let frame = self.read.frame();
            self.got(frame)?;
        }
        let b = self.take(buf.len());
        buf[..b.len()].copy_from_slice(&b);
        Ok(b.len())
    }
}

impl io::Write for Upgraded<Blocking> {
    /// Queues `buf`, blocking while more than [`HIGH_WATER`](crate::body::HIGH_WATER) waits to
    /// go out.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sender()?
            .push_data(Bytes::copy_from_slice(buf), true)
            .map_err(io_error)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Upgraded<Blocking> {
    /// Ends our side (see [`Upgraded::poll_shutdown`]); reading goes on.
    pub fn shutdown(&mut self) {
        self.write = None;
    }
}

impl<M: Mode> std::fmt::Debug for Upgraded<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgraded")
            .field("eof", &self.eof)
            .field("shut_down", &self.write.is_none())
            .finish()
    }
}
