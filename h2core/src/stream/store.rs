//! Streams by identifier, with the counts §5.1.2 needs and a bounded memory of closed streams.

use super::state::{transition, Closed, Input, State, Transition};
use super::Stream;
use crate::flow::Window;
use crate::frame::StreamId;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// The largest send queue (in slices) a freed stream record keeps for the stream that reuses
/// it: a stream that queued many slices does not make later streams hold that much memory.
const KEPT_SEND_BUF_MAX_CAPACITY: usize = 16;

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

/// What the store knows of one identifier.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A stream not closed: its record is `Store::records[index]`.
    Live(u32),
    /// A recently closed stream.
    Closed(ClosedStream),
}

/// All streams we know: those not yet closed, in full, and recently closed ones as a small
/// [`ClosedStream`] record (to answer late frames as §5.1 says). Older closed streams are
/// forgotten; frames on them are treated as on a closed stream of unknown history.
///
/// One map from identifier to [`Slot`] answers for both: a stream closes in place, with the
/// lookup that found it, rather than moving from one map to another. The full records sit in
/// a vector whose freed entries are reused, so a stream's record is neither moved through the
/// map nor allocated, and its emptied send queue serves the next stream.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Idle (a request waiting for a slot), reserved, open, half-closed and recently closed
    /// streams.
    slots: IdMap<Slot>,
    /// The records of streams not closed, and freed ones (in state closed) listed in `free`.
    records: Vec<Stream>,
    free: Vec<u32>,
    /// The recently closed streams in the order they closed, oldest first, so the memory
    /// stays bounded by forgetting the oldest.
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
    /// The highest identifier [`Store::remember_reset`] was given: the only way a stream above
    /// every identifier its side opened enters the store (see [`Store::idle_above_opened`]).
    highest_untracked_reset: u32,
}

impl Store {
    /// The index of the record of `id`, a stream not closed.
    #[inline]
    fn index(&self, id: StreamId) -> Option<usize> {
        match self.slots.get(&id.value()) {
            Some(&Slot::Live(i)) => Some(i as usize),
            _ => None,
        }
    }

    /// A stream that is not closed.
    pub(crate) fn get(&self, id: StreamId) -> Option<&Stream> {
        let i = self.index(id)?;
        self.records.get(i)
    }

    /// A stream that is not closed.
    pub(crate) fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        let i = self.index(id)?;
        self.records.get_mut(i)
    }

    /// The state of a stream not closed, or of one recently closed.
    pub(crate) fn state(&self, id: StreamId) -> Option<State> {
        match self.slots.get(&id.value())? {
            &Slot::Live(i) => self.records.get(i as usize).map(|s| s.state),
            Slot::Closed(c) => Some(State::Closed(c.how)),
        }
    }

    /// The send window a recently closed stream closed with.
    pub(crate) fn closed_send_window(&self, id: StreamId) -> Option<Window> {
        match self.slots.get(&id.value())? {
            Slot::Closed(c) => Some(c.send_window),
            Slot::Live(_) => None,
        }
    }

    pub(crate) fn insert(&mut self, mut stream: Stream) {
        let id = stream.id.value();
        let index = match self.free.pop() {
            Some(i) => {
                let record = &mut self.records[i as usize];
                if stream.send_buf.capacity() == 0 {
                    // The freed record's emptied queue: no allocation for this stream's.
                    std::mem::swap(&mut stream.send_buf, &mut record.send_buf);
                }
                *record = stream;
                i
            }
            None => {
                self.records.push(stream);
                (self.records.len() - 1) as u32
            }
        };
        // A closed slot of the same identifier (reset before it was tracked) gives way; its
        // entry in `closed_order` forgets nothing while the stream is live.
        self.slots.insert(id, Slot::Live(index));
    }

    /// A new stream `id` with the windows given, already moved from idle to `state` (not
    /// closed) as [`Store::set_state`] would: the usual way a stream opens. A freed record is
    /// reset in place ([`Stream::reuse`]) rather than a new one built and moved in.
    pub(crate) fn open(
        &mut self,
        id: StreamId,
        send_window: u32,
        recv_window: u32,
        state: State,
        local: bool,
    ) -> &mut Stream {
        let index = match self.free.pop() {
            Some(i) => {
                self.records[i as usize].reuse(id, send_window, recv_window);
                i as usize
            }
            None => {
                self.records.push(Stream::new(id, send_window, recv_window));
                self.records.len() - 1
            }
        };
        // A closed slot of the same identifier gives way, as in `insert`.
        self.slots.insert(id.value(), Slot::Live(index as u32));
        self.count(State::Idle, state, local);
        let stream = &mut self.records[index];
        stream.state = state;
        stream
    }

    /// Streams not closed plus the closed ones remembered.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Every stream not closed, lowest identifier first: events reported for many streams at
    /// once (GOAWAY, connection errors) come in the same order on every run.
    pub(crate) fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        let mut ids: Vec<u32> = self.iter().map(|s| s.id.value()).collect();
        ids.sort_unstable();
        ids.into_iter().map(StreamId::new)
    }

    /// Every stream not closed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Stream> {
        // A freed record is in state closed; a record in use never is (it leaves as it closes).
        self.records.iter().filter(|s| !s.state.is_closed())
    }

    /// Every stream not closed.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.records.iter_mut().filter(|s| !s.state.is_closed())
    }

    /// Moves `id` to `next`, keeping the active counts and the closed-stream memory right.
    /// `local` says whether we initiated the stream. A stream moved to `closed` gives up its
    /// record, with its queued data, for a [`ClosedStream`] slot. Returns true when this
    /// closed the stream.
    pub(crate) fn set_state(
        &mut self,
        id: StreamId,
        next: State,
        local: bool,
        remember: usize,
    ) -> bool {
        self.update(id, local, remember, |_| Some(next))
            .is_some_and(|(_, closed)| closed)
    }

    /// Applies `input` to `id` by the table of §5.1, with one lookup: returns the state the
    /// stream was in and the table's cell, already applied when it is [`Transition::Next`]
    /// (as [`Store::set_state`] would). A recently closed stream is reported closed and left
    /// as it is; None for a stream the store does not know.
    pub(crate) fn apply(
        &mut self,
        id: StreamId,
        input: Input,
        local: bool,
        remember: usize,
    ) -> Option<(State, Transition)> {
        let mut cell = None;
        let (was, _) = self.update(id, local, remember, |state| {
            let t = transition(state, input);
            cell = Some(t);
            match t {
                Transition::Next(next) => Some(next),
                _ => None,
            }
        })?;
        Some((was, cell.unwrap_or_else(|| transition(was, input))))
    }

    /// Moves the stream `id`, if not closed, to the state `next_of` gives for its current one
    /// (None: it stays). Returns the state it was in (closed for a recently closed stream,
    /// `next_of` not asked) and whether this closed it. A closing stream's slot changes in
    /// place, with the lookup that found it.
    fn update(
        &mut self,
        id: StreamId,
        local: bool,
        remember: usize,
        next_of: impl FnOnce(State) -> Option<State>,
    ) -> Option<(State, bool)> {
        let slot = self.slots.get_mut(&id.value())?;
        let index = match *slot {
            Slot::Live(index) => index,
            Slot::Closed(c) => return Some((State::Closed(c.how), false)),
        };
        let stream = self.records.get_mut(index as usize)?;
        let was = stream.state;
        let Some(next) = next_of(was) else {
            return Some((was, false));
        };
        stream.state = next;
        let State::Closed(how) = next else {
            self.count(was, next, local);
            return Some((was, false));
        };
        *slot = Slot::Closed(ClosedStream {
            how,
            send_window: stream.send_window,
        });
        let (buffered, deadline) = (stream.send_buffered, stream.deadline.take());
        // The record is freed: what it holds goes now, the queue's memory stays for reuse.
        stream.send_buf.clear();
        if stream.send_buf.capacity() > KEPT_SEND_BUF_MAX_CAPACITY {
            stream.send_buf = VecDeque::new();
        }
        stream.pending_open = None;
        stream.send_trailers = None;
        self.free.push(index);
        self.count(was, next, local);
        self.send_buffered_total -= buffered;
        if let Some(d) = deadline {
            self.deadlines.remove(&(d, id.value()));
        }
        self.closed_order.push_back(id.value());
        self.forget_oldest(remember);
        Some((was, true))
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
        let Some(stream) = self.get_mut(id) else {
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
        let id = StreamId::new(id);
        if let Some(s) = self.get_mut(id) {
            s.deadline = None;
        }
        Some(id)
    }

    /// Whether `id`, above every identifier its side opened (§5.1.1), is idle as far as the
    /// store knows: it holds no such stream, or holds it idle. Streams enter the store once
    /// their side's identifiers reach them, except those [`Store::remember_reset`] records, so
    /// above the highest of those the store is not looked up (a request opening a stream).
    pub(crate) fn idle_above_opened(&self, id: StreamId) -> bool {
        id.value() > self.highest_untracked_reset || self.state(id).is_none_or(|s| s == State::Idle)
    }

    /// Remembers that we reset `id`, a stream we never tracked (refused at open, or already
    /// forgotten), so late frames on it are ignored (§5.1).
    pub(crate) fn remember_reset(&mut self, id: StreamId, remember: usize) {
        self.highest_untracked_reset = self.highest_untracked_reset.max(id.value());
        let record = Slot::Closed(ClosedStream {
            how: Closed::ResetSent,
            send_window: Window::new(0),
        });
        match self.slots.entry(id.value()) {
            // A tracked stream records its own close.
            Entry::Occupied(slot) if matches!(slot.get(), Slot::Live(_)) => return,
            Entry::Occupied(mut slot) => *slot.get_mut() = record,
            Entry::Vacant(slot) => {
                slot.insert(record);
            }
        }
        self.closed_order.push_back(id.value());
        self.forget_oldest(remember);
    }

    /// Forgets the oldest closed streams beyond `remember`.
    fn forget_oldest(&mut self, remember: usize) {
        while self.closed_order.len() > remember {
            let Some(old) = self.closed_order.pop_front() else {
                break;
            };
            // Only a closed slot is forgotten: an identifier in the order twice (reset
            // untracked, then tracked and closed) is forgotten at its first entry. One probe
            // of the map finds and removes it.
            if let Entry::Occupied(slot) = self.slots.entry(old) {
                if matches!(slot.get(), Slot::Closed(_)) {
                    slot.remove();
                }
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
    fn a_closed_streams_record_serves_the_next_stream_with_its_emptied_send_queue() {
        let mut store = Store::default();
        open(&mut store, 1);
        let s = store.get_mut(StreamId::new(1)).expect("open");
        s.send_buf.push_back(bytes::Bytes::from_static(b"body"));
        let capacity = s.send_buf.capacity();
        let closed = State::Closed(Closed::EndStreamSent);
        assert!(store.set_state(StreamId::new(1), closed, false, 2));
        assert_eq!(store.iter().count(), 0, "a freed record is no stream");
        open(&mut store, 3);
        let s = store.get(StreamId::new(3)).expect("open");
        assert!(s.send_buf.is_empty());
        assert_eq!(s.send_buf.capacity(), capacity);
        assert_eq!(store.records.len(), 1, "the record was reused");
        assert_eq!(store.ids().collect::<Vec<_>>(), vec![StreamId::new(3)]);
        assert_eq!(store.state(StreamId::new(1)), Some(closed));
    }

    #[test]
    fn a_stream_opened_in_a_freed_record_starts_as_new_in_its_state() {
        let mut store = Store::default();
        open(&mut store, 1);
        let s = store.get_mut(StreamId::new(1)).expect("open");
        s.send_buf.push_back(bytes::Bytes::from_static(b"body"));
        s.send_buffered = 4;
        s.head_request = true;
        s.recv_data_len = 9;
        s.send_window.consume(50);
        store.send_buffered_total = 4;
        store.set_state(StreamId::new(1), State::Closed(Closed::ResetSent), false, 2);
        assert_eq!(store.send_buffered_total, 0);
        let s = store.open(StreamId::new(3), 70, 80, State::HalfClosedRemote, false);
        assert_eq!(s.id, StreamId::new(3));
        assert_eq!(s.state, State::HalfClosedRemote);
        assert!(s.send_buf.is_empty() && s.send_buffered == 0);
        assert_eq!(s.send_window.available(), 70);
        assert!(!s.head_request && s.recv_data_len == 0 && s.deadline.is_none());
        assert_eq!(store.records.len(), 1, "the record was reused");
        assert_eq!(store.active_remote, 1);
        assert_eq!(store.state(StreamId::new(3)), Some(State::HalfClosedRemote));
        assert_eq!(
            store.state(StreamId::new(1)),
            Some(State::Closed(Closed::ResetSent))
        );
    }

    #[test]
    fn an_identifier_above_those_opened_is_known_only_through_a_recorded_reset() {
        let mut store = Store::default();
        assert!(store.idle_above_opened(StreamId::new(9)));
        // §5.3.1: a PRIORITY naming an idle stream as its own parent resets it.
        store.remember_reset(StreamId::new(7), 2);
        assert!(!store.idle_above_opened(StreamId::new(7)), "reset: closed");
        assert!(store.idle_above_opened(StreamId::new(5)));
        assert!(store.idle_above_opened(StreamId::new(9)));
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
