//! Streaming bodies: what a handler reads from a request and returns in a response, and what a
//! client sends and receives. Received bodies give their bytes back to the connection's flow
//! control as they are read, so a slow reader slows the sender and nothing buffers unbounded.

use bytes::{Bytes, BytesMut};
use h2_http::Error;
use h2core::{Reason, StreamId};
use std::future::poll_fn;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// One piece of a body.
#[derive(Debug)]
pub enum Frame {
    /// Content.
    Data(Bytes),
    /// Trailers; they end the body.
    Trailers(http::HeaderMap),
}

/// A message body: empty, whole, produced by a [`BodySender`], or received from the peer.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    /// `Err`: the producer aborted with this reason.
    Channel(mpsc::Receiver<Result<Frame, Reason>>),
    Recv(Recv),
}

/// A body arriving from the peer on an HTTP/2 stream or an HTTP/1.1 connection.
pub(crate) struct Recv {
    pub rx: mpsc::UnboundedReceiver<Result<Frame, Error>>,
    /// Set once the reader has asked for data; the first ask is signalled as a release of 0
    /// bytes (HTTP/1.1 answers `Expect: 100-continue` then).
    pub polled: bool,
    /// Where to tell the task that feeds this body how it is read.
    pub flow: Option<(StreamId, mpsc::UnboundedSender<Flow>)>,
}

/// What the reader of a received body tells the task that feeds it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flow {
    /// `n` bytes were read (HTTP/2: they may be returned to flow control, RFC 9113 §6.9;
    /// HTTP/1.1: the first read, even of 0 bytes, answers `Expect: 100-continue`).
    Consumed { stream: StreamId, n: usize },
    /// The reader is gone; `unread` bytes were still queued. What this does to the stream
    /// depends on the side (see `Session::body_dropped`).
    Dropped { stream: StreamId, unread: usize },
}

impl Drop for Recv {
    fn drop(&mut self) {
        // Bytes still queued were never read: give them back so the connection window is not
        // lost with this body.
        if let Some((id, tx)) = &self.flow {
            let mut n = 0;
            while let Ok(Ok(Frame::Data(d))) = self.rx.try_recv() {
                n += d.len();
            }
            let _ = tx.send(Flow::Dropped {
                stream: *id,
                unread: n,
            });
        }
    }
}

/// The sending half of [`Body::channel`].
pub struct BodySender {
    tx: mpsc::Sender<Result<Frame, Reason>>,
}

impl BodySender {
    /// Sends a chunk; waits while the channel (a few chunks) is full, so a slow peer slows
    /// the producer.
    pub async fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.tx
            .send(Ok(Frame::Data(data)))
            .await
            .map_err(|_| Error::BodyDropped)
    }

    /// Sends trailers, ending the body.
    pub async fn send_trailers(self, trailers: http::HeaderMap) -> Result<(), Error> {
        self.tx
            .send(Ok(Frame::Trailers(trailers)))
            .await
            .map_err(|_| Error::BodyDropped)
    }

    /// Ends the body unfinished: over HTTP/2 the stream is reset with RST_STREAM `reason`
    /// (RFC 9113 §5.4.2, e.g. `Reason::CANCEL`); over HTTP/1.1 the connection closes without
    /// the end of the message, so the peer sees it incomplete, never complete. Fails with
    /// [`Error::BodyDropped`] when the body is already gone.
    pub async fn abort(self, reason: Reason) -> Result<(), Error> {
        self.tx
            .send(Err(reason))
            .await
            .map_err(|_| Error::BodyDropped)
    }
}

impl Body {
    /// No content.
    pub fn empty() -> Body {
        Body { kind: Kind::Empty }
    }

    /// A body producing chunks from the returned sender; dropping the sender ends it.
    pub fn channel() -> (BodySender, Body) {
        let (tx, rx) = mpsc::channel(4);
        (
            BodySender { tx },
            Body {
                kind: Kind::Channel(rx),
            },
        )
    }

    pub(crate) fn recv(recv: Recv) -> Body {
        Body {
            kind: Kind::Recv(recv),
        }
    }

    /// The whole content of a body given whole (`Body::from(bytes)`), taken out; None for
    /// any other kind.
    pub(crate) fn take_whole(&mut self) -> Option<Bytes> {
        match &mut self.kind {
            Kind::Full(b) => b.take(),
            _ => None,
        }
    }

    /// True when the body is known to have no content at all.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            _ => false,
        }
    }

    /// The exact length, when known in advance.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.as_ref().map_or(0, |b| b.len() as u64)),
            _ => None,
        }
    }

    /// Polls the next frame.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame, Error>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::Data(b))),
            ),
            Kind::Channel(rx) => rx.poll_recv(cx).map(|f| f.map(|f| f.map_err(Error::Reset))),
            Kind::Recv(r) => {
                if !r.polled {
                    r.polled = true;
                    if let Some((id, tx)) = &r.flow {
                        let _ = tx.send(Flow::Consumed { stream: *id, n: 0 });
                    }
                }
                match r.rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(Frame::Data(d)))) => {
                        if let Some((id, tx)) = &r.flow {
                            let _ = tx.send(Flow::Consumed {
                                stream: *id,
                                n: d.len(),
                            });
                        }
                        Poll::Ready(Some(Ok(Frame::Data(d))))
                    }
                    other => other,
                }
            }
        }
    }

    /// For the task sending this body: the next frame, or the reason to reset the stream
    /// with: the one given to [`BodySender::abort`], else INTERNAL_ERROR (the body failed).
    pub(crate) fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, Reason>>> {
        match &mut self.kind {
            Kind::Channel(rx) => rx.poll_recv(cx),
            _ => self
                .poll_frame(cx)
                .map(|f| f.map(|f| f.map_err(|_| Reason::INTERNAL_ERROR))),
        }
    }

    /// The next frame (data or trailers), `None` at the end.
    pub async fn frame(&mut self) -> Option<Result<Frame, Error>> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// The next chunk of data, skipping trailers; `None` at the end.
    pub async fn data(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match self.frame().await? {
                Ok(Frame::Data(d)) => return Some(Ok(d)),
                Ok(Frame::Trailers(_)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Reads the whole body into memory (and its trailers, if any).
    pub async fn collect(mut self) -> Result<(Bytes, Option<http::HeaderMap>), Error> {
        let mut buf = BytesMut::new();
        let mut trailers = None;
        while let Some(frame) = self.frame().await {
            match frame? {
                Frame::Data(d) => buf.extend_from_slice(&d),
                Frame::Trailers(t) => trailers = Some(t),
            }
        }
        Ok((buf.freeze(), trailers))
    }

    /// Reads the whole body into memory, dropping trailers.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect().await?.0)
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            kind: Kind::Full(Some(b)),
        }
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Bytes::from_static(s.as_bytes()).into()
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Channel(_) => "channel",
            Kind::Recv(_) => "recv",
        };
        f.debug_struct("Body").field("kind", &kind).finish()
    }
}

impl std::fmt::Debug for BodySender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySender").finish_non_exhaustive()
    }
}
