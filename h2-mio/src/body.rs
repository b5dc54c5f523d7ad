//! Response bodies: whole (`Body::from(bytes)`) or streamed from any thread through a
//! [`BodySender`], bounded so a fast producer waits for the socket instead of filling memory.

use bytes::Bytes;
use h2_http::Error;
use h2core::Reason;
use http::HeaderMap;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

/// The largest request body the server collects for a handler. Beyond it the request is
/// answered `413 Payload Too Large`: over HTTP/2 with END_STREAM and then RST_STREAM NO_ERROR
/// (RFC 9113 §8.1: the client stops sending, the connection lives on); over HTTP/1.1 with
/// `connection: close`, since the rest of the body cannot be skipped cheaply.
pub const MAX_REQUEST_BODY: usize = 16 << 20;

/// Trailers of a response received by the [`Client`](crate::Client), found in the response's
/// extensions.
#[derive(Debug, Clone, Default)]
pub struct Trailers(pub http::HeaderMap);

/// Bytes a streamed body may hold in memory before [`BodySender::send`] blocks.
const HIGH_WATER: usize = 256 * 1024;

/// A response body.
pub struct Body {
    inner: Inner,
}

enum Inner {
    Full(Bytes),
    Chan(Arc<Chan>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Body {
        Body::from(Bytes::new())
    }

    /// A streamed body and the handle that feeds it. The body ends when the sender is dropped
    /// (or after [`BodySender::send_trailers`]).
    pub fn channel() -> (BodySender, Body) {
        let chan = Arc::new(Chan::default());
        (
            BodySender { chan: chan.clone() },
            Body {
                inner: Inner::Chan(chan),
            },
        )
    }

    /// The length, when the whole body is known.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.inner {
            Inner::Full(b) => Some(b.len() as u64),
            Inner::Chan(_) => None,
        }
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
            inner: Inner::Full(b),
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

/// One piece of a streamed body, as the event loop takes it.
pub(crate) enum Item {
    Data(Bytes),
    Trailers(HeaderMap),
    End,
    /// The body ends unfinished ([`BodySender::abort`]).
    Abort(Reason),
}

/// Tells the event loop that a body has something new.
pub(crate) type Notify = Box<dyn Fn() + Send>;

#[derive(Default)]
pub(crate) struct Chan {
    state: Mutex<ChanState>,
    space: Condvar,
}

#[derive(Default)]
struct ChanState {
    items: VecDeque<Item>,
    queued: usize,
    ended: bool,
    /// The loop no longer wants the body (stream reset, connection gone).
    gone: bool,
    /// The loop was told and has not looked since: one wake-up per batch, not per chunk.
    flagged: bool,
    notify: Option<Notify>,
}

impl Chan {
    /// The loop took the body: it is told about new items from now on.
    pub(crate) fn attach(&self, notify: Notify) {
        let mut s = self.state.lock().expect("body lock");
        s.flagged = false;
        s.notify = Some(notify);
    }

    /// The next item, if any; data only when `data` (the stream can send now), while the end
    /// or trailers always go.
    pub(crate) fn pop(&self, data: bool) -> Option<Item> {
        let mut s = self.state.lock().expect("body lock");
        s.flagged = false;
        if !data && matches!(s.items.front(), Some(Item::Data(_))) {
            return None;
        }
        let item = s.items.pop_front();
        if let Some(Item::Data(d)) = &item {
            s.queued -= d.len();
            self.space.notify_all();
        }
        item
    }

    /// The receiving side is gone: senders fail from now on.
    pub(crate) fn close(&self) {
        let mut s = self.state.lock().expect("body lock");
        s.gone = true;
        s.items.clear();
        s.queued = 0;
        s.notify = None;
        self.space.notify_all();
    }

    fn push(&self, item: Item, wait: bool) -> Result<(), Error> {
        let mut s = self.state.lock().expect("body lock");
        while wait && !s.gone && s.queued > HIGH_WATER {
            s = self.space.wait(s).expect("body lock");
        }
        if s.gone {
            return Err(Error::BodyDropped);
        }
        if s.ended {
            return Err(Error::Malformed("body already ended"));
        }
        if let Item::Data(d) = &item {
            s.queued += d.len();
        }
        if !matches!(item, Item::Data(_)) {
            s.ended = true;
        }
        s.items.push_back(item);
        if !s.flagged && s.notify.is_some() {
            s.flagged = true;
            if let Some(n) = &s.notify {
                n();
            }
        }
        Ok(())
    }
}

/// What the loop still sends of a response (or request) body.
pub(crate) enum Out {
    Full(Bytes),
    Chan(Arc<Chan>),
}

impl Out {
    pub(crate) fn from_body(body: Body) -> Out {
        match body.inner {
            Inner::Full(b) => Out::Full(b),
            Inner::Chan(c) => Out::Chan(c),
        }
    }

    /// The loop no longer wants this body (stream reset, connection gone): its sender fails.
    pub(crate) fn abandon(self) {
        if let Out::Chan(c) = self {
            c.close();
        }
    }
}

/// Feeds a streamed [`Body`] from any thread.
pub struct BodySender {
    chan: Arc<Chan>,
}

impl BodySender {
    /// Queues `data`; blocks while more than 256 KiB of this body wait to be written (the peer
    /// reads slowly or its flow-control window is closed). Fails once the stream is gone.
    pub fn send(&self, data: Bytes) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.chan.push(Item::Data(data), true)
    }

    /// Ends the body with trailers (HTTP/2 HEADERS with END_STREAM, HTTP/1.1 chunked trailer
    /// section).
    pub fn send_trailers(self, trailers: HeaderMap) -> Result<(), Error> {
        self.chan.push(Item::Trailers(trailers), false)
    }

    /// Ends the body unfinished: over HTTP/2 the stream is reset with `reason` (RST_STREAM,
    /// RFC 9113 §6.4; what was sent before still arrives); over HTTP/1.1 the connection closes
    /// without completing the message, so the client sees it incomplete (RFC 9112 §8).
    pub fn abort(self, reason: Reason) -> Result<(), Error> {
        self.chan.push(Item::Abort(reason), false)
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        let _ = self.chan.push(Item::End, false);
    }
}
