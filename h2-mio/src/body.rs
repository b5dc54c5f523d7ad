//! Response bodies: whole (`Body::from(bytes)`) or streamed from any thread through a
//! [`BodySender`], bounded so a fast producer waits for the socket instead of filling memory.

use crate::Error;
use bytes::Bytes;
use http::HeaderMap;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

/// Bytes a streamed body may hold in memory before [`BodySender::send`] blocks.
const HIGH_WATER: usize = 256 * 1024;

/// A response body.
pub struct Body {
    pub(crate) inner: Inner,
}

pub(crate) enum Inner {
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
}

impl Drop for BodySender {
    fn drop(&mut self) {
        let _ = self.chan.push(Item::End, false);
    }
}
