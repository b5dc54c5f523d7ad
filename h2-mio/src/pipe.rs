//! The bounded queue under every streamed [`Body`](crate::Body), in both directions.
//!
//! One side is a user's thread and blocks; the other is the event loop and never does:
//! - a body the loop sends (`Body::channel`): a [`BodySender`](crate::BodySender) pushes and
//!   blocks above [`HIGH_WATER`]; the loop pops only while the stream has send capacity, and
//!   is woken (one message per batch) when something arrives;
//! - a body the loop receives: the loop delivers each DATA payload as the core gave it (no
//!   copy) and never blocks, since the peer cannot send more than the receive windows we
//!   advertised (RFC 9113 §5.2); what the reader consumes goes back to the loop as a
//!   [`Consumed`] count, which it hands to `Connection::release_capacity`. Until then the
//!   window stays closed, so unread bytes are bounded by the windows, not by the peer.

use bytes::Bytes;
use h2_http::Error;
use http::HeaderMap;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes a body fed by a blocking sender may hold before the sender waits: four 16 KiB chunks,
/// as the async adapters' body channel holds four chunks. A peer that opens many streams and
/// reads none (CVE-2019-9511, -9517) pins at most this much produced body per stream.
const HIGH_WATER: usize = 64 * 1024;

/// Consumed bytes are reported once this many gathered, or when the reader drained the queue:
/// one loop wake-up per batch, not per frame.
const RELEASE_BATCH: usize = 64 * 1024;

/// One piece of a body in the queue.
pub(crate) enum Item {
    Data(Bytes),
    /// Trailers end the body.
    Trailers(HeaderMap),
    /// The body is complete.
    End,
    /// The body ends unfinished: the reader sees this error.
    Fail(Error),
}

/// Tells the loop that a body it reads has something new.
pub(crate) type Notify = Box<dyn Fn() + Send>;

/// Tells the loop what the reader of a body it fills consumed (`n` bytes), and whether the
/// reader is gone before the end (`dropped`): a [`Consumed`] report.
pub(crate) type Release = Box<dyn Fn(Consumed) + Send>;

/// What the reader of a received body gives back to the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Consumed {
    /// Bytes read (or dropped unread) since the last report: flow-control credit.
    pub(crate) n: usize,
    /// The reader dropped the body before its end.
    pub(crate) dropped: bool,
    /// First report: the reader asked for data for the first time (HTTP/1.1: 100 Continue).
    pub(crate) first: bool,
}

#[derive(Default)]
pub(crate) struct Pipe {
    state: Mutex<State>,
    /// Readers wait for items, blocking writers for room.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    items: VecDeque<Item>,
    /// Data bytes in `items`.
    queued: usize,
    /// The writer put the last item.
    ended: bool,
    /// The reader is gone: writers fail, deliveries are refused.
    reader_gone: bool,
    /// The reader took the last item.
    reader_done: bool,
    /// Reader is the loop: woken when items arrive; `flagged` while a wake-up is unanswered.
    notify: Option<Notify>,
    flagged: bool,
    /// Writer is the loop: told what the reader consumed.
    release: Option<Release>,
    consumed: usize,
    /// The reader has not asked for data yet, and the loop wants to know when it does.
    ask: bool,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A body the loop fills; `ask`: report the reader's first read (even of nothing).
    pub(crate) fn received(release: Release, ask: bool) -> Pipe {
        Pipe {
            state: Mutex::new(State {
                release: Some(release),
                ask,
                ..State::default()
            }),
            changed: Condvar::new(),
        }
    }

    // ---- the reader ----

    /// The loop reads this body from now on: it is woken when items arrive.
    pub(crate) fn attach(&self, notify: Notify) {
        let mut s = self.lock();
        s.flagged = false;
        s.notify = Some(notify);
    }

    /// The next item without waiting; data only when `data` (the stream can send now), while
    /// trailers and the end always go.
    pub(crate) fn pop(&self, data: bool) -> Option<Item> {
        let mut s = self.lock();
        s.flagged = false;
        if std::mem::take(&mut s.ask) {
            s = self.report(s, false, true);
        }
        if !data && matches!(s.items.front(), Some(Item::Data(_))) {
            return None;
        }
        let item = s.items.pop_front();
        self.took(s, item.as_ref());
        item
    }

    /// The next item, waiting for it; `None` after the end.
    pub(crate) fn next_blocking(&self) -> Option<Item> {
        let mut s = self.lock();
        let first = std::mem::take(&mut s.ask);
        if first {
            s = self.report(s, false, true);
        }
        loop {
            if s.reader_done {
                return None;
            }
            if let Some(item) = s.items.pop_front() {
                self.took(s, Some(&item));
                return Some(item);
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Accounting after an item left the queue: room for the writer, credit for the loop.
    fn took(&self, mut s: MutexGuard<'_, State>, item: Option<&Item>) {
        match item {
            Some(Item::Data(d)) => {
                s.queued -= d.len();
                s.consumed += d.len();
                self.changed.notify_all();
                if s.release.is_some() && (s.queued == 0 || s.consumed >= RELEASE_BATCH) {
                    drop(self.report(s, false, false));
                }
            }
            Some(_) => {
                s.reader_done = true;
                if s.consumed > 0 {
                    drop(self.report(s, false, false));
                }
            }
            None => {}
        }
    }

    /// Sends what was consumed to the loop (the count is taken under the lock, so no report
    /// is lost or counted twice).
    fn report<'a>(
        &'a self,
        mut s: MutexGuard<'a, State>,
        dropped: bool,
        first: bool,
    ) -> MutexGuard<'a, State> {
        let n = std::mem::take(&mut s.consumed);
        if let Some(release) = &s.release {
            release(Consumed { n, dropped, first });
        }
        s
    }

    /// The reader is gone: senders fail from now on; a received body's unread bytes go back
    /// to flow control, and the loop learns whether it ended early.
    pub(crate) fn close_reader(&self) {
        let mut s = self.lock();
        if s.reader_gone {
            return;
        }
        s.reader_gone = true;
        let unread = s.queued;
        s.items.clear();
        s.queued = 0;
        s.notify = None;
        s.consumed += unread;
        let early = !s.reader_done;
        if s.release.is_some() && (early || s.consumed > 0) {
            s = self.report(s, early, false);
        }
        s.release = None;
        drop(s);
        self.changed.notify_all();
    }

    // ---- the writer ----

    /// A blocking sender's push: waits while more than [`HIGH_WATER`] is queued (when `wait`).
    pub(crate) fn push(&self, item: Item, wait: bool) -> Result<(), Error> {
        let mut s = self.lock();
        while wait && !s.reader_gone && s.queued > HIGH_WATER {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        if s.reader_gone {
            return Err(Error::BodyDropped);
        }
        if s.ended {
            return Err(Error::Malformed("body already ended"));
        }
        self.put(s, item);
        Ok(())
    }

    /// The loop's delivery: never waits. False when the reader is gone (the caller gives the
    /// bytes back to flow control at once).
    pub(crate) fn deliver(&self, item: Item) -> bool {
        let s = self.lock();
        if s.reader_gone || s.ended {
            return false;
        }
        self.put(s, item);
        true
    }

    fn put(&self, mut s: MutexGuard<'_, State>, item: Item) {
        match &item {
            Item::Data(d) => s.queued += d.len(),
            _ => s.ended = true,
        }
        s.items.push_back(item);
        self.changed.notify_all();
        if !s.flagged {
            if let Some(n) = &s.notify {
                n();
                s.flagged = true;
            }
        }
    }
}
