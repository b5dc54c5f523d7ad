//! RFC 9218 extensible priorities: urgency and incremental (§4), scheduled as §10 advises.
//!
//! - A lower urgency goes first: no stream of urgency `u` sends while one of urgency `< u` is
//!   ready (§4.1, §10).
//! - Within one urgency, non-incremental streams are served one at a time in ascending stream id
//!   (the order the client made its requests, §10): the lowest ready id until it has nothing left.
//! - Incremental streams of one urgency share bandwidth (§4.2, §10) round-robin, counted in bytes
//!   so a stream sending small frames does not get more than one sending large ones.
//! - §10 leaves open how the two kinds of one urgency mix; here the non-incremental streams of an
//!   urgency count as one more member of that round-robin, served in id order, so neither kind
//!   starves the other.
//!
//! The round-robin is stride scheduling with equal weights: each incremental stream, and the
//! sequence of non-incremental ones, keeps a virtual `pass` that grows by the bytes sent; the
//! smallest pass goes next, ties to the lower id. A member that becomes ready again starts no
//! earlier than the level's virtual time, so idle time is not banked.

use super::heap::{self, Entry, UNQUEUED};
use super::{Node, Scheduler, DEFAULT_URGENCY, MAX_URGENCY};
use crate::stream::IdMap;
use std::collections::VecDeque;

/// RFC 9218 §4: the priority parameters of one stream, and its place in its level's queues.
#[derive(Debug, Clone, Copy)]
pub(super) struct Signal {
    /// §4.1: 0 (most urgent) ..= 7; default 3.
    urgency: u8,
    /// §4.2: the response is usable piece by piece; default false.
    incremental: bool,
    /// Virtual time at which this (incremental) stream is next due in its level.
    pass: u64,
    /// Position in its level's `sequential` or `incremental` queue, or [`UNQUEUED`].
    pos: u32,
}

impl Signal {
    /// §4.2: whether the stream shares its level round-robin (a queue position to keep).
    pub(super) fn incremental(&self) -> bool {
        self.incremental
    }

    /// The signal of the same stream out of its level's queue.
    pub(super) fn unqueued(self) -> Signal {
        Signal {
            pos: UNQUEUED,
            ..self
        }
    }
}

impl Default for Signal {
    /// RFC 9218 §4.1, §4.2: `u=3`, not incremental.
    fn default() -> Self {
        Signal {
            urgency: DEFAULT_URGENCY,
            incremental: false,
            pass: 0,
            pos: UNQUEUED,
        }
    }
}

/// RFC 9218 §10: the ready streams of one urgency.
#[derive(Debug, Default)]
pub(super) struct Level {
    /// Ready non-incremental streams, by id. An ordered set, not a heap: a stream joins and
    /// leaves without a recorded position, so neither costs a lookup of its node.
    sequential: SortedIds,
    /// Virtual time at which the sequence of non-incremental streams is next due.
    sequential_pass: u64,
    /// Ready incremental streams, by `(pass, id)`.
    incremental: Vec<Entry>,
    /// The level's virtual time: the pass of the member it last served.
    vtime: u64,
}

impl Level {
    /// The virtual time a member joining now starts at, at the earliest.
    fn floor(&self) -> u64 {
        let sequential = self.sequential.first().map(|_| self.sequential_pass);
        let incremental = self.incremental.first().map(|e| e.key);
        match (sequential, incremental) {
            (Some(s), Some(i)) => s.min(i),
            (Some(p), None) | (None, Some(p)) => p,
            (None, None) => 0,
        }
        .max(self.vtime)
    }

    /// The member due first: `(pass, id)` of the lowest non-incremental stream or of the
    /// incremental stream with the smallest pass.
    fn head(&self) -> Option<Entry> {
        let sequential = self.sequential.first().map(|&id| Entry {
            key: self.sequential_pass,
            id,
        });
        match (sequential, self.incremental.first().copied()) {
            (Some(s), Some(i)) => Some(s.min(i)),
            (s, i) => s.or(i),
        }
    }

    /// Whether any stream of this urgency is ready.
    fn is_empty(&self) -> bool {
        self.sequential.is_empty() && self.incremental.is_empty()
    }
}

/// A set of stream ids in ascending order, as a sorted ring buffer. Streams join in the order
/// they open (ascending ids, so at the back) and the lowest one is served and leaves first (at
/// the front): both O(1), with no node allocated or freed per stream, unlike a `BTreeSet`. A
/// stream that joins or leaves in the middle (its window ran out, then reopened) shifts the
/// shorter side: a few hundred bytes for a hundred concurrent streams.
#[derive(Debug, Default)]
struct SortedIds(VecDeque<u32>);

impl SortedIds {
    #[inline]
    fn first(&self) -> Option<&u32> {
        self.0.front()
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    fn contains(&self, id: &u32) -> bool {
        self.0.binary_search(id).is_ok()
    }

    /// Adds `id`; nothing if it is there already.
    #[inline]
    fn insert(&mut self, id: u32) {
        if self.0.back().is_none_or(|&last| last < id) {
            self.0.push_back(id);
        } else if let Err(at) = self.0.binary_search(&id) {
            self.0.insert(at, id);
        }
    }

    /// Takes `id` out, if it is there.
    #[inline]
    fn remove(&mut self, id: &u32) {
        if self.0.front() == Some(id) {
            self.0.pop_front();
        } else if let Ok(at) = self.0.binary_search(id) {
            self.0.remove(at);
        }
    }
}

/// Records a queue position for `id`.
fn set_pos(nodes: &mut IdMap<Node>, id: u32, pos: u32) {
    if let Some(node) = nodes.get_mut(&id) {
        node.urgency.pos = pos;
    }
}

impl Scheduler {
    /// §4: stream `id` now has `urgency` (0..=7) and `incremental`; a ready stream moves.
    pub(super) fn urgency_set(&mut self, id: u32, urgency: u8, incremental: bool) {
        let Some(node) = self.nodes.get(&id) else {
            return;
        };
        let urgency = urgency.min(MAX_URGENCY);
        if (node.urgency.urgency, node.urgency.incremental) == (urgency, incremental) {
            // A repeated signal changes nothing, and must not cost a requeue either.
            return;
        }
        let ready = node.ready;
        if ready {
            self.level_leave(id);
        }
        if let Some(node) = self.nodes.get_mut(&id) {
            node.urgency.urgency = urgency;
            node.urgency.incremental = incremental;
        }
        if ready {
            self.level_join(id);
        }
    }

    /// Queues the ready stream `id` in its level (§10).
    pub(super) fn level_join(&mut self, id: u32) {
        if let Some(signal) = self.nodes.get(&id).map(|n| n.urgency) {
            self.level_join_as(id, signal);
        }
    }

    /// [`Scheduler::level_join`] for a stream whose `signal` the caller just read.
    #[inline]
    pub(super) fn level_join_as(&mut self, id: u32, signal: Signal) {
        let Some(level) = self.levels.get_mut(usize::from(signal.urgency)) else {
            return;
        };
        if !signal.incremental {
            if level.sequential.is_empty() {
                level.sequential_pass = level.sequential_pass.max(level.floor());
            }
            level.sequential.insert(id);
            return;
        }
        if signal.pos != UNQUEUED {
            return;
        }
        let pass = signal.pass.max(level.floor());
        if let Some(node) = self.nodes.get_mut(&id) {
            node.urgency.pass = pass;
        }
        let nodes = &mut self.nodes;
        let entry = Entry { key: pass, id };
        heap::push(&mut level.incremental, entry, &mut |id, pos| {
            set_pos(nodes, id, pos)
        });
    }

    /// Takes stream `id` out of its level's queue, if queued.
    pub(super) fn level_leave(&mut self, id: u32) {
        if let Some(signal) = self.nodes.get(&id).map(|n| n.urgency) {
            self.level_leave_as(id, signal);
        }
    }

    /// [`Scheduler::level_leave`] for a stream whose `signal` the caller just read.
    #[inline]
    pub(super) fn level_leave_as(&mut self, id: u32, signal: Signal) {
        let Some(level) = self.levels.get_mut(usize::from(signal.urgency)) else {
            return;
        };
        if !signal.incremental {
            level.sequential.remove(&id);
            return;
        }
        if signal.pos == UNQUEUED {
            return;
        }
        let nodes = &mut self.nodes;
        heap::remove(&mut level.incremental, signal.pos, &mut |id, pos| {
            set_pos(nodes, id, pos)
        });
    }

    /// [`Scheduler::urgency_charge_as`] for a stream of the default urgency, not incremental:
    /// while the queues are not live every stream is one (see `Scheduler::levels_live`).
    #[inline]
    pub(super) fn urgency_charge_default(&mut self, bytes: usize) {
        let level = &mut self.levels[usize::from(DEFAULT_URGENCY)];
        let cost = u64::try_from(bytes).unwrap_or(u64::MAX).max(1);
        level.vtime = level.vtime.max(level.sequential_pass);
        level.sequential_pass = level.sequential_pass.saturating_add(cost);
    }

    /// §10: the head of the most urgent level that has a ready stream. O(8), no allocation.
    pub(super) fn urgency_next(&self) -> Option<u32> {
        // Empty levels are passed over on their lengths alone.
        self.levels
            .iter()
            .find(|l| !l.is_empty())
            .and_then(Level::head)
            .map(|e| e.id)
    }

    /// §10: `bytes` of stream `id`, whose `signal` the caller just read, were sent: its member
    /// of the round-robin pays them.
    #[inline]
    pub(super) fn urgency_charge_as(&mut self, id: u32, signal: Signal, bytes: usize) {
        let Some(level) = self.levels.get_mut(usize::from(signal.urgency)) else {
            return;
        };
        let cost = u64::try_from(bytes).unwrap_or(u64::MAX).max(1);
        if signal.incremental {
            level.vtime = level.vtime.max(signal.pass);
            let pass = signal.pass.saturating_add(cost);
            if let Some(node) = self.nodes.get_mut(&id) {
                node.urgency.pass = pass;
            }
            let nodes = &mut self.nodes;
            heap::update(&mut level.incremental, signal.pos, pass, &mut |id, pos| {
                set_pos(nodes, id, pos)
            });
        } else {
            level.vtime = level.vtime.max(level.sequential_pass);
            level.sequential_pass = level.sequential_pass.saturating_add(cost);
        }
    }

    /// §10: a ready stream of lower urgency, or (both non-incremental) of the same urgency and
    /// a lower id, goes before `id`.
    pub(super) fn urgency_blocked(&self, id: u32) -> bool {
        let Some(signal) = self.nodes.get(&id).map(|n| n.urgency) else {
            return false;
        };
        let urgency = usize::from(signal.urgency);
        if self.levels.iter().take(urgency).any(|l| !l.is_empty()) {
            return true;
        }
        !signal.incremental
            && self
                .levels
                .get(urgency)
                .and_then(|l| l.sequential.first())
                .is_some_and(|&head| head != id)
    }
}

#[cfg(test)]
impl Scheduler {
    /// Level invariants: exactly the ready streams are queued, each where its signal says.
    pub(super) fn check_levels(&self) {
        if !self.levels_live {
            for (&id, node) in &self.nodes {
                let s = node.urgency;
                assert_eq!(
                    s.urgency, DEFAULT_URGENCY,
                    "{id}: urgency before any signal"
                );
                assert!(!s.incremental, "{id}: incremental before any signal");
                assert_eq!(s.pos, UNQUEUED, "{id} queued before the queues are live");
            }
            assert!(
                self.levels.iter().all(Level::is_empty),
                "queues before live"
            );
            return;
        }
        for (&id, node) in &self.nodes {
            let s = node.urgency;
            assert!(s.urgency <= MAX_URGENCY, "{id}: urgency {}", s.urgency);
            let level = &self.levels[usize::from(s.urgency)];
            if !s.incremental {
                assert_eq!(s.pos, UNQUEUED, "{id}: a position outside the heap");
                assert_eq!(
                    level.sequential.contains(&id),
                    node.ready,
                    "{id} queued iff ready"
                );
                continue;
            }
            assert_eq!(s.pos != UNQUEUED, node.ready, "{id} queued iff ready");
            if node.ready {
                let entry = Entry { key: s.pass, id };
                assert_eq!(level.incremental[s.pos as usize], entry, "{id} entry");
            }
        }
        let queued: usize = self
            .levels
            .iter()
            .map(|l| l.sequential.len() + l.incremental.len())
            .sum();
        assert_eq!(queued, self.nodes.values().filter(|n| n.ready).count());
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Mode, Rfc7540Priority};
    use super::*;

    #[test]
    fn sorted_ids_behave_as_an_ordered_set() {
        let mut ids = SortedIds::default();
        let mut model = std::collections::BTreeSet::new();
        // A fixed pseudo-random walk of joins and leaves, in order and out of it.
        let mut x = 12345u32;
        for step in 0..4000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let id = if step % 3 == 0 { step } else { (x >> 8) % 64 };
            if x & 1 == 0 {
                ids.insert(id);
                model.insert(id);
            } else {
                let id = if x & 2 == 0 {
                    model.first().copied().unwrap_or(id)
                } else {
                    id
                };
                ids.remove(&id);
                model.remove(&id);
            }
            assert_eq!(ids.first(), model.first(), "step {step}");
            assert_eq!(ids.len(), model.len());
            assert!(ids.0.iter().copied().eq(model.iter().copied()));
        }
    }

    fn rfc9218() -> Scheduler {
        let mut s = Scheduler::new();
        s.set_mode(Mode::Rfc9218);
        s
    }

    fn open(s: &mut Scheduler, id: u32, urgency: u8, incremental: bool) {
        s.insert(id, None);
        s.set_urgency(id, urgency, incremental);
        s.set_ready(id, true);
    }

    /// The first `n` picks, each sending `chunk` bytes.
    fn picks(s: &mut Scheduler, n: usize, chunk: usize) -> Vec<u32> {
        let order = (0..n)
            .map_while(|_| {
                let id = s.next()?;
                s.sent(id, chunk);
                Some(id)
            })
            .collect();
        s.check();
        order
    }

    #[test]
    fn a_lower_urgency_goes_first() {
        let mut s = rfc9218();
        open(&mut s, 1, 5, true);
        open(&mut s, 3, 3, false);
        open(&mut s, 5, 0, false);
        assert_eq!(s.next(), Some(5));
        assert!(s.blocked_by_priority(1));
        assert!(s.blocked_by_priority(3));
        s.set_ready(5, false);
        assert_eq!(picks(&mut s, 3, 1_000), vec![3, 3, 3]);
        s.remove(3);
        assert_eq!(s.next(), Some(1));
        assert!(!s.blocked_by_priority(1));
    }

    #[test]
    fn streams_without_a_signal_have_urgency_3_not_incremental() {
        let mut s = rfc9218();
        s.insert(7, None);
        s.set_ready(7, true);
        open(&mut s, 5, 3, false);
        open(&mut s, 9, 4, true);
        assert_eq!(picks(&mut s, 2, 1_000), vec![5, 5]);
        s.set_ready(5, false);
        assert_eq!(picks(&mut s, 2, 1_000), vec![7, 7]);
    }

    #[test]
    fn non_incremental_streams_of_one_urgency_go_one_at_a_time_in_id_order() {
        let mut s = rfc9218();
        for id in [9, 3, 7, 5] {
            open(&mut s, id, 2, false);
        }
        assert_eq!(picks(&mut s, 3, 16_384), vec![3, 3, 3]);
        assert!(s.blocked_by_priority(5));
        assert!(!s.blocked_by_priority(3));
        s.set_ready(3, false);
        assert_eq!(picks(&mut s, 2, 16_384), vec![5, 5]);
        s.remove(5);
        assert_eq!(picks(&mut s, 1, 16_384), vec![7]);
        s.set_ready(3, true); // more data for 3: it goes first again
        assert_eq!(picks(&mut s, 1, 16_384), vec![3]);
    }

    #[test]
    fn incremental_streams_of_one_urgency_share_round_robin() {
        let mut s = rfc9218();
        for id in [1, 3, 5] {
            open(&mut s, id, 3, true);
        }
        assert_eq!(picks(&mut s, 6, 16_384), vec![1, 3, 5, 1, 3, 5]);
        assert!(!s.blocked_by_priority(3));
        // Counted in bytes: a stream sending small frames gets as many bytes, not more.
        s.sent(1, 5 * 16_384);
        assert_eq!(picks(&mut s, 4, 16_384), vec![3, 5, 3, 5]);
    }

    #[test]
    fn non_incremental_streams_take_one_turn_of_the_round_robin_together() {
        let mut s = rfc9218();
        open(&mut s, 1, 3, true);
        open(&mut s, 3, 3, false);
        open(&mut s, 5, 3, false);
        open(&mut s, 7, 3, true);
        assert_eq!(picks(&mut s, 6, 1_000), vec![1, 3, 7, 1, 3, 7]);
        s.set_ready(3, false);
        assert_eq!(picks(&mut s, 3, 1_000), vec![1, 5, 7]);
    }

    #[test]
    fn a_stream_that_returns_does_not_bank_its_idle_time() {
        let mut s = rfc9218();
        open(&mut s, 1, 3, true);
        open(&mut s, 3, 3, true);
        s.set_ready(3, false);
        picks(&mut s, 100, 16_384);
        s.set_ready(3, true);
        assert_eq!(picks(&mut s, 4, 16_384), vec![1, 3, 1, 3]);
    }

    #[test]
    fn a_stream_is_not_penalized_for_bandwidth_it_used_alone() {
        let mut s = rfc9218();
        open(&mut s, 1, 3, true);
        picks(&mut s, 100, 16_384); // 1 alone
        s.set_ready(1, false);
        open(&mut s, 3, 3, true); // starts at the level's virtual time, not at 0
        s.set_ready(1, true);
        assert_eq!(picks(&mut s, 4, 16_384), vec![3, 1, 3, 1]);
    }

    #[test]
    fn non_incremental_streams_are_not_penalized_for_bandwidth_they_used_alone() {
        let mut s = rfc9218();
        open(&mut s, 3, 3, false);
        picks(&mut s, 100, 16_384); // 3 alone
        s.set_ready(3, false);
        open(&mut s, 5, 3, true);
        s.set_ready(3, true);
        assert_eq!(picks(&mut s, 4, 16_384), vec![5, 3, 5, 3]);
    }

    #[test]
    fn a_priority_update_moves_a_ready_stream() {
        let mut s = rfc9218();
        open(&mut s, 1, 3, false);
        open(&mut s, 3, 3, false);
        assert_eq!(s.next(), Some(1));
        s.set_urgency(3, 1, true);
        assert_eq!(s.next(), Some(3));
        s.set_urgency(3, 200, false); // out of range: the least urgent
        assert_eq!(s.nodes[&3].urgency.urgency, MAX_URGENCY);
        assert_eq!(s.next(), Some(1));
        s.check();
    }

    #[test]
    fn a_priority_update_for_an_idle_stream_applies_when_it_opens() {
        let mut s = rfc9218();
        open(&mut s, 1, 3, false);
        s.set_urgency(3, 0, true); // PRIORITY_UPDATE before HEADERS
        assert_eq!(s.next(), Some(1));
        s.insert(3, None);
        s.set_ready(3, true);
        assert_eq!(s.next(), Some(3));
        s.check();
    }

    #[test]
    fn rfc7540_mode_schedules_by_the_tree_despite_urgency() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        let dependency = Rfc7540Priority {
            dependency: 1,
            weight: 16,
            exclusive: false,
        };
        s.insert(3, Some(dependency));
        s.set_urgency(3, 0, false);
        s.set_urgency(1, 7, false);
        s.set_ready(1, true);
        s.set_ready(3, true);
        assert_eq!(s.next(), Some(1), "the tree: parent first");
        s.set_mode(Mode::Rfc9218);
        assert_eq!(s.next(), Some(3), "urgency 0 first");
        assert!(s.blocked_by_priority(1));
        s.check();
    }
}
