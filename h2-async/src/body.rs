//! Streaming bodies: what a handler reads from a request and returns in a response, and what a
//! client sends and receives. Received bodies give their bytes back to the connection's flow
//! control as they are read, so a slow reader slows the sender and nothing buffers unbounded.

use crate::driver::Command;
use crate::Error;
use bytes::{Bytes, BytesMut};
use h2core::StreamId;
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
    Channel(mpsc::Receiver<Result<Frame, Error>>),
    Recv(Recv),
}

/// A body arriving from the peer on an HTTP/2 stream or an HTTP/1.1 connection.
pub(crate) struct Recv {
    pub rx: mpsc::UnboundedReceiver<Result<Frame, Error>>,
    /// Set once the reader has asked for data; the first ask is signalled as a release of 0
    /// bytes (HTTP/1.1 answers `Expect: 100-continue` then).
    pub polled: bool,
    /// Where to say that bytes were consumed (HTTP/2: WINDOW_UPDATE). None for HTTP/1.1.
    pub release: Option<(StreamId, mpsc::UnboundedSender<Command>)>,
}

impl Drop for Recv {
    fn drop(&mut self) {
        // Bytes still queued were never read: give them back so the connection window is not
        // lost with this body; the stream itself is reset by the driver when it sees the drop.
        if let Some((id, tx)) = &self.release {
            let mut n = 0;
            while let Ok(Ok(Frame::Data(d))) = self.rx.try_recv() {
                n += d.len();
            }
            let _ = tx.send(Command::BodyDropped {
                stream: *id,
                unread: n,
            });
        }
    }
}

/// The sending half of [`Body::channel`].
pub struct BodySender {
    tx: mpsc::Sender<Result<Frame, Error>>,
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

    /// Ends the body with an error: the stream is reset (HTTP/2) or the connection closed.
    pub async fn abort(self, err: Error) {
        let _ = self.tx.send(Err(err)).await;
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
            Kind::Channel(rx) => rx.poll_recv(cx),
            Kind::Recv(r) => {
                if !r.polled {
                    r.polled = true;
                    if let Some((id, tx)) = &r.release {
                        let _ = tx.send(Command::Release { stream: *id, n: 0 });
                    }
                }
                match r.rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(Frame::Data(d)))) => {
                        if let Some((id, tx)) = &r.release {
                            let _ = tx.send(Command::Release {
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
