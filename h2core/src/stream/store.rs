//! Streams by identifier, with the counts §5.1.2 needs and a bounded memory of closed streams.

use super::state::{Closed, State};
use super::Stream;
use crate::flow::Window;
use crate::frame::StreamId;
use bytes::Bytes;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// How many emptied send queues a [`Store`] keeps for streams opened later.
const SPARE_SEND_BUFS: usize = 32;

/// The largest send queue (in slices) kept for reuse: a stream that queued many slices does not
/// make later streams hold that much memory.
const SPARE_SEND_BUF_MAX_CAPACITY: usize = 16;

/// A map keyed by stream identifier, hashed with [`IdHasher`].
pub(crate) type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// A cheap hasher for `u32` stream identifiers that keeps streams opened one after another in
/// nearby buckets: the bucket comes from the identifier itself, and only the top bits, which
/// hashbrown keeps as the tag it compares before the key, are an FxHash-style multiply. Under
/// many connections with many streams each, a multiply-hashed bucket was a cache miss at
/// nearly every insert and lookup (a stream's scheduler node, its state, its closed record).
/// The identifier is not halved: one map holds mostly odd or mostly even ones, so every other
/// bucket stays empty, and a stream removed behind the others leaves an empty bucket rather
/// than a tombstone (a full run of 16 does), which would cost a rehash every few streams.
/// Not keyed: a peer could aim ids at one bucket, but ids only grow and the concurrency limit
/// and the closed-stream bound cap how many it has in a map, so collisions cost probing, not
/// unbounded work.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

/// The top bits of [`IdHasher::finish`]: the multiply's, for hashbrown's tag.
const TAG_BITS: u64 = 0xfe00_0000_0000_0000;

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0 << 8 | u64::from(b);
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let tag = self.0.wrapping_mul(0xf135_7aea_2e62_a9c5) & TAG_BITS;
        tag | (self.0 & !TAG_BITS)
    }
}

/// What §5.1 needs of a closed stream: how it closed (late frames are ignored after our
/// RST_STREAM, a stream error after the peer's, a connection error after END_STREAM), and the
/// send window it closed with, which `send_capacity` goes on reporting so a caller filling the
/// window learns of the close from `send_data`, as before the stream was closed.
#[derive(Debug, Clone, Copy)]
struct ClosedStream {
    how: Closed,
    send_window: Window,
}

/// All streams we know: those not yet closed, in full, and recently closed ones as a small
/// [`ClosedStream`] record (to answer late frames as §5.1 says). Older closed streams are
/// forgotten; frames on them are treated as on a closed stream of unknown history.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Idle (a request waiting for a slot), reserved, open and half-closed streams.
    streams: IdMap<Stream>,
    /// Recently closed streams; `closed_order` is the order they closed in, oldest first, so
    /// the memory stays bounded by forgetting the oldest.
    closed: IdMap<ClosedStream>,
    closed_order: VecDeque<u32>,
    /// Active (open or half-closed) streams we initiated, and that the peer initiated (§5.1.2).
    pub active_local: u32,
    pub active_remote: u32,
    /// Streams we initiated that may still receive DATA: open or half-closed (local) (§5.1).
    /// Adaptive windows size the connection window to cover their initial windows.
    pub receiving_local: u32,
    /// The deadlines of streams not closed, earliest first: one timer serves them all (no
    /// per-stream timer); an entry leaves with its stream.
    deadlines: BTreeSet<(Instant, u32)>,
    /// DATA queued to send, summed over the streams not closed (the memory budget's send side).
    pub send_buffered_total: usize,
    /// Emptied send queues of closed streams, given to streams as they are inserted: a stream
    /// that sends DATA then costs no allocation for its queue in the steady state.
    spare_send_bufs: Vec<VecDeque<Bytes>>,
}

impl Store {
    /// A stream that is not closed.
    pub(crate) fn get(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(&id.value())
    }

    /// A stream that is not closed.
    pub(crate) fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        self.streams.get_mut(&id.value())
    }

    /// The state of a stream not closed, or of one recently closed.
    pub(crate) fn state(&self, id: StreamId) -> Option<State> {
        match self.streams.get(&id.value()) {
            Some(s) => Some(s.state),
            None => self.closed.get(&id.value()).map(|c| State::Closed(c.how)),
        }
    }

    /// The send window a recently closed stream closed with.
    pub(crate) fn closed_send_window(&self, id: StreamId) -> Option<Window> {
        self.closed.get(&id.value()).map(|c| c.send_window)
    }

    pub(crate) fn insert(&mut self, mut stream: Stream) {
        if stream.send_buf.capacity() == 0 {
            if let Some(buf) = self.spare_send_bufs.pop() {
                stream.send_buf = buf;
            }
        }
        self.streams.insert(stream.id.value(), stream);
    }

    /// Streams not closed plus the closed ones remembered.
    pub(crate) fn len(&self) -> usize {
        self.streams.len() + self.closed.len()
    }

    /// Every stream not closed, lowest identifier first: events reported for many streams at
    /// once (GOAWAY, connection errors) come in the same order on every run.
    pub(crate) fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        let mut ids: Vec<u32> = self.streams.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().map(StreamId::new)
    }

    /// Every stream not closed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Stream> {
        self.streams.values()
    }

    /// Every stream not closed.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.streams.values_mut()
    }

    /// Moves `id` to `next`, keeping the active counts and the closed-stream memory right.
    /// `local` says whether we initiated the stream. A stream moved to `closed` leaves the map
    /// of full streams, with its queued data, for a [`ClosedStream`] record. Returns true when
    /// this closed the stream.
    pub(crate) fn set_state(
        &mut self,
        id: StreamId,
        next: State,
        local: bool,
        remember: usize,
    ) -> bool {
        if let State::Closed(how) = next {
            // One lookup: the stream leaves the map as it closes.
            let Some(s) = self.streams.remove(&id.value()) else {
                return false;
            };
            self.count(s.state, next, local);
            self.send_buffered_total -= s.send_buffered;
            if let Some(d) = s.deadline {
                self.deadlines.remove(&(d, id.value()));
            }
            let send_window = s.send_window;
            let mut buf = s.send_buf;
            if (1..=SPARE_SEND_BUF_MAX_CAPACITY).contains(&buf.capacity())
                && self.spare_send_bufs.len() < SPARE_SEND_BUFS
            {
                buf.clear();
                self.spare_send_bufs.push(buf);
            }
            self.remember_closed(id, ClosedStream { how, send_window }, remember);
            return true;
        }
        let Some(stream) = self.streams.get_mut(&id.value()) else {
            return false;
        };
        let was = std::mem::replace(&mut stream.state, next);
        self.count(was, next, local);
        false
    }

    /// Keeps the counts of active and receiving streams as one moves from `was` to `next`.
    fn count(&mut self, was: State, next: State, local: bool) {
        let count = if local {
            &mut self.active_local
        } else {
            &mut self.active_remote
        };
        match (was.is_active(), next.is_active()) {
            (false, true) => *count += 1,
            (true, false) => *count -= 1,
            _ => {}
        }
        if local {
            match (was.can_recv(), next.can_recv()) {
                (false, true) => self.receiving_local += 1,
                (true, false) => self.receiving_local -= 1,
                _ => {}
            }
        }
    }

    /// Sets (or moves) the deadline of `id`, a stream not closed; false if there is none.
    pub(crate) fn set_deadline(&mut self, id: StreamId, at: Instant) -> bool {
        let Some(stream) = self.streams.get_mut(&id.value()) else {
            return false;
        };
        if let Some(old) = stream.deadline.replace(at) {
            self.deadlines.remove(&(old, id.value()));
        }
        self.deadlines.insert((at, id.value()));
        true
    }

    /// The earliest deadline of a stream not closed.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// A stream whose deadline is at or before `now`, taken out of the index.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<StreamId> {
        let &(at, id) = self.deadlines.first()?;
        if at > now {
            return None;
        }
        self.deadlines.pop_first();
        if let Some(s) = self.streams.get_mut(&id) {
            s.deadline = None;
        }
        Some(StreamId::new(id))
    }

    /// Remembers that we reset `id`, a stream we never tracked (refused at open, or already
    /// forgotten), so late frames on it are ignored (§5.1).
    pub(crate) fn remember_reset(&mut self, id: StreamId, remember: usize) {
        let record = ClosedStream {
            how: Closed::ResetSent,
            send_window: Window::new(0),
        };
        self.remember_closed(id, record, remember);
    }

    fn remember_closed(&mut self, id: StreamId, record: ClosedStream, remember: usize) {
        self.closed.insert(id.value(), record);
        self.closed_order.push_back(id.value());
        while self.closed_order.len() > remember {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(store: &mut Store, id: u32) {
        store.insert(Stream::new(StreamId::new(id), 100, 100));
        store.set_state(StreamId::new(id), State::Open, false, 2);
    }

    #[test]
    fn closed_stream_leaves_the_map_and_keeps_how_it_closed() {
        let mut store = Store::default();
        open(&mut store, 1);
        assert_eq!(store.active_remote, 1);
        let closed = State::Closed(Closed::ResetReceived);
        assert!(store.set_state(StreamId::new(1), closed, false, 2));
        assert_eq!(store.active_remote, 0);
        assert!(store.get(StreamId::new(1)).is_none());
        assert_eq!(store.state(StreamId::new(1)), Some(closed));
        assert_eq!(
            store.closed_send_window(StreamId::new(1)),
            Some(Window::new(100))
        );
        assert_eq!(store.ids().count(), 0);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn receiving_local_counts_our_streams_that_may_still_receive() {
        let mut store = Store::default();
        let ours = StreamId::new(1);
        store.insert(Stream::new(ours, 100, 100));
        // A request sent whole: half-closed (local), its response to come.
        store.set_state(ours, State::HalfClosedLocal, true, 2);
        assert_eq!(store.receiving_local, 1);
        // The peer's streams do not count.
        open(&mut store, 2);
        assert_eq!(store.receiving_local, 1);
        store.set_state(ours, State::Closed(Closed::EndStreamReceived), true, 2);
        assert_eq!(store.receiving_local, 0);
    }

    #[test]
    fn closed_streams_are_forgotten_oldest_first() {
        let mut store = Store::default();
        for id in [1, 3, 5] {
            open(&mut store, id);
        }
        // Closed in another order than opened: the memory is by closing order.
        for id in [5, 1, 3] {
            let closed = State::Closed(Closed::EndStreamSent);
            store.set_state(StreamId::new(id), closed, false, 2);
        }
        assert_eq!(store.state(StreamId::new(5)), None);
        assert!(store.state(StreamId::new(1)).is_some());
        assert!(store.state(StreamId::new(3)).is_some());
        store.remember_reset(StreamId::new(7), 2);
        assert_eq!(store.state(StreamId::new(1)), None);
        assert_eq!(
            store.state(StreamId::new(7)),
            Some(State::Closed(Closed::ResetSent))
        );
        assert_eq!(store.len(), 2);
    }
}
