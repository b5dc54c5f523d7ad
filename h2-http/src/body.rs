//! Message bodies, one type on every runtime: what a handler reads from a request and returns
//! in a response, what a client sends and receives. A body is whole (`Body::from(bytes)`),
//! produced through a [`BodySender`], or received from the peer; a received body is read as
//! it arrives and its bytes go back to flow control as they are read (RFC 9113 §5.2), so a
//! slow reader slows the sender and nothing buffers without bound (see `pipe`).
//!
//! The mode parameter says how a user waits: [`Async`] bodies are read and fed with `.await`
//! (tokio, async-std), [`Blocking`] ones from threads (mio). Each adapter names one:
//! `type Body = h2_http::body::Body<Async>`.

use crate::pipe::{Item, Pipe};
use crate::Error;
use bytes::{Bytes, BytesMut};
use h2core::{Reason, StreamId};
use http::HeaderMap;
use std::any::Any;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use crate::pipe::{batch_reader_wakes, Consumed, Release, HIGH_WATER};

/// How the user of a body waits: [`Async`] or [`Blocking`].
pub trait Mode: Send + Sync + 'static {}

/// Bodies read and produced with `.await`.
#[derive(Debug)]
pub enum Async {}
impl Mode for Async {}

/// Bodies read and produced by threads that block.
#[derive(Debug)]
pub enum Blocking {}
impl Mode for Blocking {}

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
pub struct Body<M: Mode> {
    kind: Kind,
    /// A received request's stream and the way back to its connection, read by
    /// `StreamHandle::of`; `None` for every body made otherwise. Never sent: a request body
    /// echoed back as a response body carries it, ignored.
    origin: Option<Origin>,
    mode: PhantomData<fn() -> M>,
}

/// Where a request received by a server came from: its stream and its connection's route
/// for handles (a `handle::Route` of the body's mode), type-erased because a handle is built
/// from a body and not the other way round. The route is the connection's one `Arc`,
/// shared by every request: carrying it costs a reference count, not an allocation.
pub(crate) struct Origin {
    /// The request's stream (`StreamId::ZERO` over HTTP/1.1).
    pub(crate) stream: StreamId,
    /// The connection's route, as `Route<M>`.
    pub(crate) route: Arc<dyn Any + Send + Sync>,
}

enum Kind {
    Full(Option<Bytes>),
    Pipe(Reader),
    Chunks(Chunks),
    /// Any `http_body::Body` (only a `Body<Async>` is made from one: [`Body::wrap`]). In a
    /// `Mutex` only so the body stays `Sync`; reached through `&mut`, never locked.
    Wrapped(std::sync::Mutex<Wrapped>),
}

/// What [`Body::wrap`] takes, boxed, its error boxed too.
type Wrapped = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A wrapped body read by a thread (a `Body<Async>` given back as a `Body<Blocking>` never
/// happens in practice; this keeps the blocking API total): polls, parking between polls.
fn block_on_wrapped(body: &mut std::sync::Mutex<Wrapped>) -> Option<Result<Frame, Error>> {
    crate::block::block_on(poll_fn(|cx| poll_wrapped(body, cx)))
}

/// Polls a wrapped body for its next frame.
fn poll_wrapped(
    body: &mut std::sync::Mutex<Wrapped>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame, Error>>> {
    use http_body::Body as _;
    let body = body.get_mut().unwrap_or_else(|e| e.into_inner());
    loop {
        let frame = match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Error::Body(e)))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        match frame.into_data() {
            Ok(d) => return Poll::Ready(Some(Ok(Frame::Data(d)))),
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    return Poll::Ready(Some(Ok(Frame::Trailers(t))));
                }
                // A frame kind HTTP has no use for: skipped.
            }
        }
    }
}

/// A body of known length pulled from an iterator: no task, nothing produced ahead of what
/// the peer can take.
struct Chunks {
    /// Bytes still to come.
    left: u64,
    /// In a `Mutex` only so the body stays `Sync`; it is reached through `&mut` (`get_mut`),
    /// never locked.
    iter: std::sync::Mutex<Box<dyn Iterator<Item = Bytes> + Send>>,
}

impl Chunks {
    /// The next chunk, cut to what is left; `None` at the end; an error when the iterator
    /// gave less than announced.
    fn next(&mut self) -> Option<Result<Bytes, Error>> {
        if self.left == 0 {
            return None;
        }
        let iter = self.iter.get_mut().unwrap_or_else(|e| e.into_inner());
        let Some(mut chunk) = iter.next() else {
            return Some(Err(Error::Malformed("body shorter than its length")));
        };
        chunk.truncate(self.left.min(chunk.len() as u64) as usize);
        self.left -= chunk.len() as u64;
        Some(Ok(chunk))
    }
}

/// The reading end of a [`Pipe`]; closes it when dropped.
struct Reader(Arc<Pipe>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.close_reader();
    }
}

impl<M: Mode> Body<M> {
    fn of(kind: Kind) -> Body<M> {
        Body {
            kind,
            origin: None,
            mode: PhantomData,
        }
    }

    /// The server received this request body on `origin`'s stream and connection.
    pub(crate) fn set_origin(&mut self, origin: Origin) {
        self.origin = Some(origin);
    }

    /// Where the request with this body came from, if a server received it.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// No content (HTTP/2: the head carries END_STREAM).
    pub fn empty() -> Body<M> {
        Body::of(Kind::Full(None))
    }

    /// A body produced from the returned sender; dropping the sender ends it.
    pub fn channel() -> (BodySender<M>, Body<M>) {
        let pipe = Arc::new(Pipe::default());
        let sender = BodySender {
            pipe: pipe.clone(),
            mode: PhantomData,
        };
        (sender, Body::of(Kind::Pipe(Reader(pipe))))
    }

    /// A body of exactly `len` bytes taken from `chunks` only as the peer can receive them
    /// (flow control, RFC 9113 §5.2): no task or thread produces it and nothing is buffered
    /// ahead, so a large body costs no memory in proportion to its length (slices of one
    /// static buffer, say, or of a file read as it goes). Its length is announced
    /// (`content-length`); chunks beyond it are cut, and an iterator that ends early fails
    /// the body (the stream is reset with INTERNAL_ERROR).
    pub fn chunks(len: u64, chunks: impl Iterator<Item = Bytes> + Send + 'static) -> Body<M> {
        Body::of(Kind::Chunks(Chunks {
            left: len,
            iter: std::sync::Mutex::new(Box::new(chunks)),
        }))
    }

    /// For adapters: a body the connection receives on `stream` (`StreamId::ZERO` over
    /// HTTP/1.1), filled through the returned [`Inbox`]; what its reader consumes is reported
    /// to `release`, and with `ask` its first read too (HTTP/1.1: `Expect: 100-continue`).
    pub fn received(stream: StreamId, release: Release, ask: bool) -> (Inbox, Body<M>) {
        let pipe = Arc::new(Pipe::received(stream, release, ask));
        (Inbox(pipe.clone()), Body::of(Kind::Pipe(Reader(pipe))))
    }

    /// True when the body is known to have no content at all.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            Kind::Pipe(_) => false,
            Kind::Chunks(c) => c.left == 0,
            Kind::Wrapped(b) => b.lock().is_ok_and(|b| http_body::Body::is_end_stream(&*b)),
        }
    }

    /// The exact length, when known in advance.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Full(b) => Some(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Pipe(_) => None,
            Kind::Chunks(c) => Some(c.left),
            Kind::Wrapped(b) => b
                .lock()
                .ok()
                .and_then(|b| http_body::Body::size_hint(&*b).exact()),
        }
    }

    /// A copy of a body given whole (`Bytes` are shared, not copied), e.g. to send it again.
    pub fn whole(&self) -> Option<Bytes> {
        match &self.kind {
            Kind::Full(b) => Some(b.clone().unwrap_or_default()),
            Kind::Pipe(_) | Kind::Chunks(_) | Kind::Wrapped(_) => None,
        }
    }

    /// For adapters: the body as the connection sends it.
    pub fn into_outgoing(self) -> Outgoing {
        Outgoing {
            kind: self.kind,
            touched: false,
        }
    }

    /// The next frame, or `cx` is woken when there is one.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame, Error>>> {
        match &mut self.kind {
            Kind::Full(b) => Poll::Ready(b.take().filter(|b| !b.is_empty()).map(data)),
            Kind::Pipe(r) => r.0.poll_pop(cx, true).map(|i| i.and_then(frame)),
            Kind::Chunks(c) => Poll::Ready(c.next().map(|r| r.map(Frame::Data))),
            Kind::Wrapped(b) => poll_wrapped(b, cx),
        }
    }
}

fn data(b: Bytes) -> Result<Frame, Error> {
    Ok(Frame::Data(b))
}

fn frame(item: Item) -> Option<Result<Frame, Error>> {
    match item {
        Item::Data(d) => Some(Ok(Frame::Data(d))),
        Item::Trailers(t) => Some(Ok(Frame::Trailers(t))),
        Item::End => None,
        Item::Fail(e) => Some(Err(e)),
    }
}

impl Body<Async> {
    /// Any `http_body::Body` (hyper's, axum's, tower-http's, `http_body_util`'s) as a body:
    /// polled by the connection only as flow control allows, its length announced when its
    /// size hint is exact. An error it returns resets the stream (INTERNAL_ERROR, RFC 9113
    /// §5.4.2); a reader sees it as [`Error::Body`]. A `Body` of ours comes back as it is
    /// (no wrapping, no allocation), so generic code may wrap whatever it is given.
    pub fn wrap<B>(body: B) -> Body<Async>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        use http_body_util::BodyExt;
        let mut body = Some(body);
        if let Some(own) =
            (&mut body as &mut dyn std::any::Any).downcast_mut::<Option<Body<Async>>>()
        {
            return own.take().expect("just put there");
        }
        let body = body.expect("still there");
        let boxed = body.map_err(Into::into).boxed_unsync();
        Body::of(Kind::Wrapped(std::sync::Mutex::new(boxed)))
    }

    /// Polls the next frame (data or trailers); `None` at the end. An error means the body
    /// ended unfinished: the stream was reset ([`Error::Reset`]), the connection failed, or
    /// the sender aborted.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame, Error>>> {
        self.poll_next(cx)
    }

    /// The next frame (data or trailers); `None` at the end (see [`Body::poll_frame`]).
    pub async fn frame(&mut self) -> Option<Result<Frame, Error>> {
        poll_fn(|cx| self.poll_next(cx)).await
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
    pub async fn collect(mut self) -> Result<(Bytes, Option<HeaderMap>), Error> {
        let mut all = Collected::default();
        while let Some(frame) = self.frame().await {
            all.add(frame?);
        }
        Ok(all.done())
    }

    /// Reads the whole body into memory, dropping trailers.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect().await?.0)
    }
}

impl Body<Blocking> {
    /// The next frame (data or trailers), waiting for it; `None` at the end. An error means
    /// the body ended unfinished: the stream was reset ([`Error::Reset`]), the connection
    /// failed, or the sender aborted.
    pub fn frame(&mut self) -> Option<Result<Frame, Error>> {
        match &mut self.kind {
            Kind::Full(b) => b.take().filter(|b| !b.is_empty()).map(data),
            Kind::Pipe(r) => frame(r.0.next_blocking()?),
            Kind::Chunks(c) => c.next().map(|r| r.map(Frame::Data)),
            Kind::Wrapped(b) => block_on_wrapped(b),
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
        let mut all = Collected::default();
        while let Some(frame) = self.frame() {
            all.add(frame?);
        }
        Ok(all.done())
    }

    /// Reads the whole body into memory, dropping trailers.
    pub fn bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect()?.0)
    }
}

/// The ecosystem's body trait (http-body 1.x): hyper, axum, tonic and tower-http read a
/// `Body<Async>` through it. Frames are the same: data, then trailers at the end.
impl http_body::Body for Body<Async> {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        self.poll_next(cx).map(|frame| {
            frame.map(|f| {
                f.map(|f| match f {
                    Frame::Data(d) => http_body::Frame::data(d),
                    Frame::Trailers(t) => http_body::Frame::trailers(t),
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        Body::is_end_stream(self)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match Body::size_hint(self) {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

/// A body being read whole: one chunk is kept as it is, more are joined.
#[derive(Default)]
struct Collected {
    first: Option<Bytes>,
    rest: BytesMut,
    trailers: Option<HeaderMap>,
}

impl Collected {
    fn add(&mut self, frame: Frame) {
        match frame {
            Frame::Data(d) if self.first.is_none() => self.first = Some(d),
            Frame::Data(d) => self.rest.extend_from_slice(&d),
            Frame::Trailers(t) => self.trailers = Some(t),
        }
    }

    fn done(self) -> (Bytes, Option<HeaderMap>) {
        let data = match self.first {
            Some(first) if self.rest.is_empty() => first,
            Some(first) => {
                let mut all = BytesMut::with_capacity(first.len() + self.rest.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&self.rest);
                all.freeze()
            }
            None => Bytes::new(),
        };
        (data, self.trailers)
    }
}

impl<M: Mode> Default for Body<M> {
    fn default() -> Body<M> {
        Body::empty()
    }
}

impl<M: Mode> From<Bytes> for Body<M> {
    fn from(b: Bytes) -> Body<M> {
        Body::of(Kind::Full(Some(b)))
    }
}

impl<M: Mode> From<Vec<u8>> for Body<M> {
    fn from(v: Vec<u8>) -> Body<M> {
        Body::from(Bytes::from(v))
    }
}

impl<M: Mode> From<String> for Body<M> {
    fn from(s: String) -> Body<M> {
        Body::from(Bytes::from(s))
    }
}

impl<M: Mode> From<&'static str> for Body<M> {
    fn from(s: &'static str) -> Body<M> {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl<M: Mode> std::fmt::Debug for Body<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Full(_) => "full",
            Kind::Pipe(_) => "streamed",
            Kind::Chunks(_) => "chunks",
            Kind::Wrapped(_) => "wrapped",
        };
        f.debug_struct("Body").field("kind", &kind).finish()
    }
}

/// Feeds a [`Body::channel`]. Dropping it ends the body.
pub struct BodySender<M: Mode> {
    pipe: Arc<Pipe>,
    mode: PhantomData<fn() -> M>,
}

impl BodySender<Async> {
    /// Queues `data`; waits while more than [`HIGH_WATER`] bytes of this body wait to be
    /// written (the peer reads slowly or its flow-control window is closed, RFC 9113 §5.2).
    /// Fails with [`Error::BodyDropped`] once the stream is gone (reset by the peer,
    /// connection closed, the reader dropped the body).
    pub async fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        poll_fn(|cx| self.pipe.poll_room(cx)).await?;
        self.pipe.push(Item::Data(data), false)
    }

    /// Ends the body with trailers (HTTP/2 HEADERS with END_STREAM, RFC 9113 §8.1; HTTP/1.1
    /// chunked trailer section).
    pub async fn send_trailers(self, trailers: HeaderMap) -> Result<(), Error> {
        self.pipe.push(Item::Trailers(trailers), false)
    }

    /// Ends the body unfinished: over HTTP/2 the stream is reset with `reason` (RST_STREAM,
    /// RFC 9113 §6.4; what was sent before still arrives); over HTTP/1.1 the connection closes
    /// without completing the message, so the peer sees it incomplete (RFC 9112 §8).
    pub async fn abort(self, reason: Reason) -> Result<(), Error> {
        self.pipe.push(Item::Fail(Error::Reset(reason)), false)
    }
}

impl BodySender<Blocking> {
    /// Queues `data`; blocks while more than [`HIGH_WATER`] bytes of this body wait to be
    /// written (the peer reads slowly or its flow-control window is closed, RFC 9113 §5.2).
    /// Fails with [`Error::BodyDropped`] once the stream is gone (reset by the peer,
    /// connection closed, the reader dropped the body).
    pub fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
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

impl<M: Mode> BodySender<M> {
    /// Ready when data may be queued (see [`BodySender::send_data`]).
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.pipe.poll_room(cx)
    }

    /// Queues `data`; with `wait`, first blocks the thread while the queue is full.
    pub(crate) fn push_data(&self, data: Bytes, wait: bool) -> Result<(), Error> {
        self.pipe.push(Item::Data(data), wait)
    }
}

impl<M: Mode> Drop for BodySender<M> {
    fn drop(&mut self) {
        // After trailers or an abort this is refused: the body already ended.
        let _ = self.pipe.push(Item::End, false);
    }
}

impl<M: Mode> std::fmt::Debug for BodySender<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySender").finish_non_exhaustive()
    }
}

/// For adapters: the connection's end of a body it receives. Never waits: the peer cannot
/// send more than the windows advertised. Dropped before the body's end, the reader sees
/// [`Error::ConnectionGone`].
pub struct Inbox(Arc<Pipe>);

impl Inbox {
    /// Delivers a chunk; false when nobody will read it (give it back to flow control).
    pub fn data(&self, data: Bytes) -> bool {
        self.0.deliver(Item::Data(data))
    }

    /// Ends the body with trailers.
    pub fn trailers(self, trailers: HeaderMap) {
        self.0.deliver(Item::Trailers(trailers));
    }

    /// Ends the body.
    pub fn end(self) {
        self.0.deliver(Item::End);
    }

    /// Ends the body unfinished: the reader sees `error`.
    pub fn fail(self, error: Error) {
        self.0.deliver(Item::Fail(error));
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        // Refused when the body already ended.
        self.0.deliver(Item::Fail(Error::ConnectionGone));
    }
}

/// For adapters: a body as the connection sends it, taken only as flow control allows.
pub struct Outgoing {
    kind: Kind,
    touched: bool,
}

/// What the connection sends next of an [`Outgoing`] body.
#[derive(Debug)]
pub enum Chunk {
    /// Content; `last` when nothing follows (END_STREAM may go with it).
    Data(Bytes, bool),
    /// Trailers end the body.
    Trailers(HeaderMap),
    /// The body is complete.
    End,
    /// The body ended unfinished: reset the stream with this reason (RFC 9113 §5.4.2): the
    /// one given to [`BodySender::abort`], else INTERNAL_ERROR.
    Abort(Reason),
}

impl Outgoing {
    /// The next chunk, or `cx` is woken when there is one; data only when `data` (the stream
    /// has send capacity).
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>, data: bool) -> Poll<Chunk> {
        let chunk = match &mut self.kind {
            Kind::Full(b) => Chunk::Data(b.take().unwrap_or_default(), true),
            Kind::Pipe(r) => match r.0.poll_pop(cx, data) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None | Some(Item::End)) => Chunk::End,
                Poll::Ready(Some(Item::Data(d))) => Chunk::Data(d, false),
                Poll::Ready(Some(Item::Trailers(t))) => Chunk::Trailers(t),
                Poll::Ready(Some(Item::Fail(Error::Reset(reason)))) => Chunk::Abort(reason),
                Poll::Ready(Some(Item::Fail(_))) => Chunk::Abort(Reason::INTERNAL_ERROR),
            },
            Kind::Chunks(_) if !data => return Poll::Pending,
            Kind::Chunks(c) => match c.next() {
                None => Chunk::End,
                Some(Ok(d)) => Chunk::Data(d, c.left == 0),
                Some(Err(_)) => Chunk::Abort(Reason::INTERNAL_ERROR),
            },
            Kind::Wrapped(_) if !data => return Poll::Pending,
            Kind::Wrapped(b) => match poll_wrapped(b, cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => Chunk::End,
                Poll::Ready(Some(Ok(Frame::Data(d)))) => Chunk::Data(d, false),
                Poll::Ready(Some(Ok(Frame::Trailers(t)))) => Chunk::Trailers(t),
                Poll::Ready(Some(Err(_))) => Chunk::Abort(Reason::INTERNAL_ERROR),
            },
        };
        self.touched = true;
        Poll::Ready(chunk)
    }

    /// The body's end, if that is all it has now: its trailers (`Some(Some)`) or its plain end
    /// (`Some(None)`). A response whose body is no more than that goes as one HEADERS frame
    /// with END_STREAM (RFC 9113 §8.1; gRPC's trailers-only response).
    pub fn take_end(&mut self) -> Option<Option<HeaderMap>> {
        match &self.kind {
            Kind::Full(_) | Kind::Chunks(_) | Kind::Wrapped(_) => None,
            Kind::Pipe(r) => r.0.take_end(),
        }
    }

    /// Back to a body, to send it again elsewhere, if none of it was taken yet.
    pub fn untouched<M: Mode>(self) -> Option<Body<M>> {
        (!self.touched).then(|| Body::of(self.kind))
    }
}
