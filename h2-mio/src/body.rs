//! Message bodies, blocking, the same type both ways: what a handler reads from a request and
//! returns in a response, what the client sends and receives. A body is whole
//! (`Body::from(bytes)`), fed from any thread through a [`BodySender`], or received from the
//! peer; a received body is read as it arrives and its bytes go back to flow control as they
//! are read (RFC 9113 §5.2), so a slow reader slows the sender (see `pipe`).

use crate::pipe::{Item, Pipe};
use bytes::{Bytes, BytesMut};
use h2_http::Error;
use h2core::Reason;
use http::HeaderMap;
use std::sync::Arc;

/// One piece of a body.
#[derive(Debug)]
pub enum Frame {
    /// Content.
    Data(Bytes),
    /// Trailers (RFC 9113 §8.1, RFC 9112 §7.1.2); they end the body.
    Trailers(HeaderMap),
}

/// A message body: empty, whole, produced by a [`BodySender`], or received from the peer.
///
/// Dropping a received body before its end tells the peer it is not wanted: over HTTP/2 the
/// stream is reset with CANCEL (RFC 9113 §8.1; a server that already sent its whole response
/// uses NO_ERROR), over HTTP/1.1 the rest is read and discarded.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Pipe(Reader),
}

/// The reading end of a [`Pipe`]; closes it when dropped.
pub(crate) struct Reader(pub(crate) Arc<Pipe>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.close_reader();
    }
}

impl Body {
    /// No content (HTTP/2: the head carries END_STREAM).
    pub fn empty() -> Body {
        Body {
            kind: Kind::Full(None),
        }
    }

    /// A body produced from the returned sender, from any thread; dropping the sender ends
    /// it.
    pub fn channel() -> (BodySender, Body) {
        let pipe = Arc::new(Pipe::default());
        (BodySender { pipe: pipe.clone() }, Body::pipe(pipe))
    }

    /// A body read from `pipe` (the loop fills it with what the peer sends).
    pub(crate) fn pipe(pipe: Arc<Pipe>) -> Body {
        Body {
            kind: Kind::Pipe(Reader(pipe)),
        }
    }

    /// A copy of a body given whole (`Bytes` are shared, not copied), to send it again.
    pub(crate) fn whole(&self) -> Option<Bytes> {
        match &self.kind {
            Kind::Full(b) => Some(b.clone().unwrap_or_default()),
            Kind::Pipe(_) => None,
        }
    }

    /// True when the body is known to have no content at all.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            Kind::Pipe(_) => false,
        }
    }

    /// The exact length, when known in advance.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Full(b) => Some(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Pipe(_) => None,
        }
    }

    /// The next frame (data or trailers), waiting for it; `None` at the end. An error means
    /// the body ended unfinished: the stream was reset ([`Error::Reset`]), the connection
    /// failed, or the sender aborted.
    pub fn frame(&mut self) -> Option<Result<Frame, Error>> {
        match &mut self.kind {
            Kind::Full(b) => b
                .take()
                .filter(|b| !b.is_empty())
                .map(|b| Ok(Frame::Data(b))),
            Kind::Pipe(r) => match r.0.next_blocking()? {
                Item::Data(d) => Some(Ok(Frame::Data(d))),
                Item::Trailers(t) => Some(Ok(Frame::Trailers(t))),
                Item::End => None,
                Item::Fail(e) => Some(Err(e)),
            },
        }
    }

    /// The next chunk of data, skipping trailers; `None` at the end.
    pub fn data(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match self.frame()? {
                Ok(Frame::Data(d)) => return Some(Ok(d)),
                Ok(Frame::Trailers(_)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Reads the whole body into memory (and its trailers, if any).
    pub fn collect(mut self) -> Result<(Bytes, Option<HeaderMap>), Error> {
        if let Kind::Full(b) = &mut self.kind {
            return Ok((b.take().unwrap_or_default(), None));
        }
        let mut buf = BytesMut::new();
        let mut trailers = None;
        while let Some(frame) = self.frame() {
            match frame? {
                Frame::Data(d) => buf.extend_from_slice(&d),
                Frame::Trailers(t) => trailers = Some(t),
            }
        }
        Ok((buf.freeze(), trailers))
    }

    /// Reads the whole body into memory, dropping trailers.
    pub fn bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect()?.0)
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body {
            kind: Kind::Full(Some(b)),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Full(_) => "full",
            Kind::Pipe(_) => "streamed",
        };
        f.debug_struct("Body").field("kind", &kind).finish()
    }
}

/// What the loop still sends of a body.
pub(crate) enum Out {
    Full(Bytes),
    Pipe(Reader),
}

impl Out {
    pub(crate) fn from_body(body: Body) -> Out {
        match body.kind {
            Kind::Full(b) => Out::Full(b.unwrap_or_default()),
            Kind::Pipe(r) => Out::Pipe(r),
        }
    }

    /// Back to a body, for a request sent again (nothing of it was taken).
    pub(crate) fn into_body(self) -> Body {
        match self {
            Out::Full(b) => Body::from(b),
            Out::Pipe(r) => Body {
                kind: Kind::Pipe(r),
            },
        }
    }
}

/// Feeds a [`Body::channel`] from any thread.
pub struct BodySender {
    pipe: Arc<Pipe>,
}

impl BodySender {
    /// Queues `data`; blocks while more than 64 KiB of this body wait to be written (the peer
    /// reads slowly or its flow-control window is closed, RFC 9113 §5.2). Fails with
    /// [`Error::BodyDropped`] once the stream is gone (reset by the peer, connection closed,
    /// the reader dropped the body).
    pub fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.pipe.push(Item::Data(data), true)
    }

    /// Ends the body with trailers (HTTP/2 HEADERS with END_STREAM, RFC 9113 §8.1; HTTP/1.1
    /// chunked trailer section).
    pub fn send_trailers(self, trailers: HeaderMap) -> Result<(), Error> {
        self.pipe.push(Item::Trailers(trailers), false)
    }

    /// Ends the body unfinished: over HTTP/2 the stream is reset with `reason` (RST_STREAM,
    /// RFC 9113 §6.4; what was sent before still arrives); over HTTP/1.1 the connection closes
    /// without completing the message, so the peer sees it incomplete (RFC 9112 §8).
    pub fn abort(self, reason: Reason) -> Result<(), Error> {
        self.pipe.push(Item::Fail(Error::Reset(reason)), false)
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        let _ = self.pipe.push(Item::End, false);
    }
}

impl std::fmt::Debug for BodySender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySender").finish_non_exhaustive()
    }
}
