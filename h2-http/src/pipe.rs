//! The bounded queue under every streamed [`Body`](crate::body::Body), in both directions and
//! on every runtime.
//!
//! One end belongs to the connection (a task or an event loop), which never waits; the other
//! to the user, who waits either as a task (a `Waker`) or as a thread (the `Condvar`):
//! - a body the connection sends (`Body::channel`): the user's sender pushes and waits above
//!   [`HIGH_WATER`]; the connection pops only while the stream has send capacity, and its
//!   waker is woken (once per batch) when something arrives;
//! - a body the connection receives: it delivers each DATA payload as the core gave it (no
//!   copy) and never waits, since the peer cannot send more than the receive windows we
//!   advertised (RFC 9113 §5.2); what the reader consumes goes back to the connection as a
//!   [`Consumed`] report, which it hands to `Connection::release_capacity`. Until then the
//!   window stays closed, so unread bytes are bounded by the windows, not by the peer.

use crate::Error;
use bytes::Bytes;
use h2core::StreamId;
use http::HeaderMap;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Bytes a produced body may hold before its sender waits: four 16 KiB chunks. A peer that
/// opens many streams and reads none (CVE-2019-9511, -9517) pins at most this much produced
/// body per stream.
pub const HIGH_WATER: usize = 64 * 1024;

/// Consumed bytes are reported once this many gathered, or when the reader drained the queue:
/// one report per batch, not per frame.
const RELEASE_BATCH: usize = 64 * 1024;

thread_local! {
    /// The wakes of tasks reading received bodies, held back while a connection task runs
    /// ([`batch_reader_wakes`]); `None` outside.
    static DEFERRED: RefCell<Option<Vec<Waker>>> = const { RefCell::new(None) };
    /// The list, kept between runs so that deferring allocates nothing.
    static SPARE: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` (one poll of a connection task) with the wakes of the tasks reading the bodies it
/// fills held back until `f` returns. A reader that waits is woken by the first DATA frame
/// delivered; one poll delivers up to a read per round, many rounds in a row, and a reader on
/// another thread then woke (a system call), drained that one frame and waited again, once per
/// few frames. Held back, it is woken once per poll and finds them all; the frames were in the
/// queue either way, and the poll ends as soon as the socket has nothing more. Not for a task
/// that polls readers itself (a server's handlers): one it should poll in the same round would
/// be woken too late.
pub fn batch_reader_wakes<R>(f: impl FnOnce() -> R) -> R {
    let outer = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_some() {
            return true;
        }
        *d = Some(SPARE.with(|s| std::mem::take(&mut *s.borrow_mut())));
        false
    });
    if outer {
        // Already inside a batch (a task polled within a connection task's poll).
        return f();
    }
    /// Wakes what was held back, also when `f` panics.
    struct Flush;
    impl Drop for Flush {
        fn drop(&mut self) {
            let Some(mut wakers) = DEFERRED.with(|d| d.borrow_mut().take()) else {
                return;
            };
            for w in wakers.drain(..) {
                w.wake();
            }
            SPARE.with(|s| *s.borrow_mut() = wakers);
        }
    }
    let _flush = Flush;
    f()
}

/// Wakes the reader `w` now, or at the end of the batch being run on this thread.
fn wake_reader(w: Waker) {
    let held = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push(w);
            None
        }
        None => Some(w),
    });
    if let Some(w) = held {
        w.wake();
    }
}

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

/// How the connection learns what the reader of a body it receives did: called with the
/// stream (`StreamId::ZERO` over HTTP/1.1) and a [`Consumed`] report. One per connection,
/// shared by its bodies.
pub type Release = Arc<dyn Fn(StreamId, Consumed) + Send + Sync>;

/// What the reader of a received body gives back to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumed {
    /// Bytes read (or dropped unread) since the last report: flow-control credit (RFC 9113
    /// §6.9).
    pub n: usize,
    /// The reader dropped the body before its end.
    pub dropped: bool,
    /// The reader asked for data for the first time (HTTP/1.1: time for 100 Continue, RFC
    /// 9110 §10.1.1).
    pub first: bool,
}

#[derive(Default)]
pub(crate) struct Pipe {
    state: Mutex<State>,
    /// Threads wait here: blocking readers for items, blocking writers for room.
    changed: Condvar,
    /// The connection filling this body, told what the reader consumed.
    release: Option<(StreamId, Release)>,
}

/// What to do once the lock is released: waking a task or calling the connection while
/// holding it made the other side (the connection delivering, the reader popping) wait for
/// the lock in the kernel, about once per DATA frame.
#[derive(Default)]
#[must_use]
struct After {
    wake: Option<Waker>,
    /// The task to wake reads the body (it may be held back, [`batch_reader_wakes`]).
    reader: bool,
    report: Option<Consumed>,
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
    /// A task reading (the connection, or an async user) waits for items.
    reader: Option<Waker>,
    /// A task writing waits for room.
    writer: Option<Waker>,
    /// Threads waiting on `changed` (a notify costs a system call, so only when needed).
    blocked: usize,
    /// The reader's consumption is reported (a received body whose reader is still there).
    reporting: bool,
    consumed: usize,
    /// The reader has not asked for data yet, and the connection wants to know when it does.
    ask: bool,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&'a self, mut s: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        s.blocked += 1;
        let mut s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        s.blocked -= 1;
        s
    }

    /// Wakes whoever waits on the other end: a thread at once, a task once the lock is
    /// released (`after`).
    fn notify(&self, s: &mut State, reader: bool, after: &mut After) {
        let waker = if reader { &mut s.reader } else { &mut s.writer };
        if let Some(w) = waker.take() {
            after.wake = Some(w);
            after.reader = reader;
        }
        if s.blocked > 0 {
            self.changed.notify_all();
        }
    }

    /// Does what was decided under the lock, now released.
    fn finish(&self, after: After) {
        match after.wake {
            Some(w) if after.reader && self.release.is_some() => wake_reader(w),
            Some(w) => w.wake(),
            None => {}
        }
        if let (Some(consumed), Some((stream, release))) = (after.report, &self.release) {
            release(*stream, consumed);
        }
    }

    /// A body the connection fills; `ask`: report the reader's first read (even of nothing).
    pub(crate) fn received(stream: StreamId, release: Release, ask: bool) -> Pipe {
        Pipe {
            state: Mutex::new(State {
                reporting: true,
                ask,
                ..State::default()
            }),
            changed: Condvar::new(),
            release: Some((stream, release)),
        }
    }

    // ---- the reader ----

    /// The next item without waiting, else `Pending` with `cx`'s waker registered; data only
    /// when `data` (the stream can send now), while trailers and the end always go.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>, data: bool) -> Poll<Option<Item>> {
        let mut after = After::default();
        let mut s = self.lock();
        if std::mem::take(&mut s.ask) {
            self.report(&mut s, false, true, &mut after);
        }
        let polled = if s.reader_done {
            Poll::Ready(None)
        } else {
            let held = !data && matches!(s.items.front(), Some(Item::Data(_)));
            match if held { None } else { s.items.pop_front() } {
                Some(item) => {
                    self.took(&mut s, &item, &mut after);
                    Poll::Ready(Some(item))
                }
                None => {
                    if !s.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        s.reader = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        };
        drop(s);
        self.finish(after);
        polled
    }

    /// The body's end when nothing precedes it: its trailers (`Some(Some)`), or its plain end
    /// (`Some(None)`); `None` (and nothing taken) when data comes first or nothing is queued.
    pub(crate) fn take_end(&self) -> Option<Option<HeaderMap>> {
        let mut s = self.lock();
        let end = match s.items.front()? {
            Item::Trailers(_) | Item::End => s.items.pop_front()?,
            _ => return None,
        };
        s.reader_done = true;
        match end {
            Item::Trailers(t) => Some(Some(t)),
            _ => Some(None),
        }
    }

    /// The next item, waiting for it; `None` after the end.
    pub(crate) fn next_blocking(&self) -> Option<Item> {
        let mut after = After::default();
        let mut s = self.lock();
        if std::mem::take(&mut s.ask) {
            self.report(&mut s, false, true, &mut after);
        }
        let next = loop {
            if s.reader_done {
                break None;
            }
            if let Some(item) = s.items.pop_front() {
                self.took(&mut s, &item, &mut after);
                break Some(item);
            }
            if after.report.is_some() {
                // Reported before waiting: the connection may be waiting for this credit.
                drop(s);
                self.finish(std::mem::take(&mut after));
                s = self.lock();
                continue;
            }
            s = self.wait(s);
        };
        drop(s);
        self.finish(after);
        next
    }

    /// Accounting after an item left the queue: room for the writer, credit for the
    /// connection.
    fn took(&self, s: &mut State, item: &Item, after: &mut After) {
        match item {
            Item::Data(d) => {
                let before = s.queued;
                s.queued -= d.len();
                s.consumed += d.len();
                if before > HIGH_WATER && s.queued <= HIGH_WATER {
                    self.notify(s, false, after);
                }
                if s.reporting && (s.queued == 0 || s.consumed >= RELEASE_BATCH) {
                    self.report(s, false, false, after);
                }
            }
            _ => {
                s.reader_done = true;
                if s.consumed > 0 {
                    self.report(s, false, false, after);
                }
            }
        }
    }

    /// Takes what was consumed, to report it to the connection once the lock is released
    /// (the count is taken under the lock, so no byte is reported twice or lost; only the
    /// reader reports, so its reports arrive in order).
    fn report(&self, s: &mut State, dropped: bool, first: bool, after: &mut After) {
        let n = std::mem::take(&mut s.consumed);
        if s.reporting {
            // One report per release of the lock: a second one in the same call adds up.
            let c = after.report.get_or_insert(Consumed {
                n: 0,
                dropped: false,
                first: false,
            });
            c.n += n;
            c.dropped |= dropped;
            c.first |= first;
        }
    }

    /// The reader is gone: writers fail from now on; a received body's unread bytes go back
    /// to flow control, and the connection learns whether it ended early.
    pub(crate) fn close_reader(&self) {
        let mut after = After::default();
        let mut s = self.lock();
        if s.reader_gone {
            return;
        }
        s.reader_gone = true;
        let unread = s.queued;
        s.items.clear();
        s.queued = 0;
        s.reader = None;
        s.consumed += unread;
        let early = !s.reader_done;
        if s.reporting && (early || s.consumed > 0) {
            self.report(&mut s, early, false, &mut after);
        }
        s.reporting = false;
        self.notify(&mut s, false, &mut after);
        drop(s);
        self.finish(after);
    }

    // ---- the writer ----

    /// Ready when an item may be pushed: at most [`HIGH_WATER`] is queued (else `cx` is woken
    /// when there is room); an error once the reader is gone.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut s = self.lock();
        if s.reader_gone {
            return Poll::Ready(Err(Error::BodyDropped));
        }
        if s.queued <= HIGH_WATER {
            return Poll::Ready(Ok(()));
        }
        s.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Pushes `item`; with `wait`, first waits while more than [`HIGH_WATER`] is queued.
    pub(crate) fn push(&self, item: Item, wait: bool) -> Result<(), Error> {
        let mut after = After::default();
        let mut s = self.lock();
        while wait && !s.reader_gone && s.queued > HIGH_WATER {
            s = self.wait(s);
        }
        if s.reader_gone {
            return Err(Error::BodyDropped);
        }
        if s.ended {
            return Err(Error::Malformed("body already ended"));
        }
        self.put(&mut s, item, &mut after);
        drop(s);
        self.finish(after);
        Ok(())
    }

    /// The connection's delivery: never waits. False when the reader is gone (the caller
    /// gives the bytes back to flow control at once) or the body already ended.
    pub(crate) fn deliver(&self, item: Item) -> bool {
        let mut after = After::default();
        let mut s = self.lock();
        if s.reader_gone || s.ended {
            return false;
        }
        self.put(&mut s, item, &mut after);
        drop(s);
        self.finish(after);
        true
    }

    fn put(&self, s: &mut State, item: Item, after: &mut After) {
        match &item {
            Item::Data(d) => s.queued += d.len(),
            _ => s.ended = true,
        }
        s.items.push_back(item);
        self.notify(s, true, after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn data(n: usize) -> Item {
        Item::Data(Bytes::from(vec![0; n]))
    }

    #[test]
    fn the_reading_task_is_woken_once_per_batch() {
        let pipe = Pipe::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(pipe.poll_pop(&mut cx, true).is_pending());
        pipe.push(data(10), false).unwrap();
        pipe.push(data(10), false).unwrap();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(matches!(
            pipe.poll_pop(&mut cx, true),
            Poll::Ready(Some(Item::Data(_)))
        ));
        assert!(matches!(
            pipe.poll_pop(&mut cx, true),
            Poll::Ready(Some(Item::Data(_)))
        ));
        // Data waits while the stream has no capacity; the end does not.
        pipe.push(data(1), false).unwrap();
        assert!(pipe.poll_pop(&mut cx, false).is_pending());
        assert!(matches!(
            pipe.poll_pop(&mut cx, true),
            Poll::Ready(Some(Item::Data(_)))
        ));
        drop(pipe.push(Item::End, false));
        assert!(matches!(
            pipe.poll_pop(&mut cx, false),
            Poll::Ready(Some(Item::End))
        ));
        assert!(matches!(pipe.poll_pop(&mut cx, false), Poll::Ready(None)));
    }

    #[test]
    fn a_connection_task_wakes_the_reader_of_a_received_body_once_per_batch() {
        let release: Release = Arc::new(|_, _| {});
        let pipe = Pipe::received(StreamId::new(1), release, false);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let woken = || count.0.load(Ordering::Relaxed);
        assert!(pipe.poll_pop(&mut cx, true).is_pending());
        batch_reader_wakes(|| {
            assert!(pipe.deliver(data(10)));
            assert_eq!(woken(), 0, "held back while the batch runs");
            // The reader runs meanwhile (another thread) and waits again: still one wake.
            assert!(pipe.poll_pop(&mut cx, true).is_ready());
            assert!(pipe.poll_pop(&mut cx, true).is_pending());
            assert!(pipe.deliver(data(10)));
            batch_reader_wakes(|| assert!(pipe.deliver(data(10))));
            assert_eq!(woken(), 0, "a nested batch is part of the outer one");
        });
        assert_eq!(woken(), 2, "each wait woken once, when the batch ends");
        assert!(pipe.deliver(data(10)));
        assert_eq!(woken(), 2, "not waiting: nothing to wake");
        let _ = pipe.poll_pop(&mut cx, true);
        let _ = pipe.poll_pop(&mut cx, true);
        let _ = pipe.poll_pop(&mut cx, true);
        assert!(pipe.poll_pop(&mut cx, true).is_pending());
        assert!(pipe.deliver(data(10)));
        assert_eq!(woken(), 3, "outside a batch, at once");
    }

    #[test]
    fn a_writer_waits_above_high_water_and_fails_once_the_reader_is_gone() {
        let pipe = Pipe::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        pipe.push(data(HIGH_WATER + 1), false).unwrap();
        assert!(pipe.poll_room(&mut cx).is_pending());
        assert!(matches!(pipe.poll_pop(&mut cx, true), Poll::Ready(Some(_))));
        assert_eq!(count.0.load(Ordering::Relaxed), 1, "room wakes the writer");
        assert!(pipe.poll_room(&mut cx).is_ready());
        pipe.close_reader();
        assert!(matches!(pipe.push(data(1), true), Err(Error::BodyDropped)));
    }

    #[test]
    fn received_bytes_are_released_as_read_and_all_of_them_when_dropped() {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let r = reports.clone();
        let release: Release = Arc::new(move |id, c| r.lock().unwrap().push((id, c)));
        let stream = StreamId::new(1);
        let pipe = Pipe::received(stream, release, true);
        assert!(pipe.deliver(data(100)));
        assert!(pipe.deliver(data(50)));
        assert!(matches!(pipe.next_blocking(), Some(Item::Data(_))));
        pipe.close_reader();
        assert!(!pipe.deliver(data(1)), "refused once the reader is gone");
        let got: Vec<_> = reports.lock().unwrap().iter().map(|(_, c)| *c).collect();
        let c = |n, dropped, first| Consumed { n, dropped, first };
        assert_eq!(got, [c(0, false, true), c(150, true, false)]);
    }
}
