//! The send scheduler: which stream's DATA goes next (RFC 9113 §5.3, RFC 7540 §5.3, RFC 9218).
//!
//! Every stream carries both priority signals, and [`Mode`] says which one decides:
//! - [`Mode::Rfc7540`]: the dependency tree of RFC 7540 §5.3, in [`tree`]. RFC 9113 §5.3.2
//!   deprecates it, but many clients still send PRIORITY frames and HEADERS priority fields.
//!   Streams that also sent an RFC 9218 signal are still scheduled by the tree in this mode: the
//!   signal is recorded and takes effect if the mode changes.
//! - [`Mode::Rfc9218`]: urgency and incremental of RFC 9218 §4, in [`urgency`]. RFC 7540 signals
//!   are then ignored: the tree is neither consulted nor grown.
//!
//! [`Scheme`] decides which, per connection, from SETTINGS_NO_RFC7540_PRIORITIES and the peer's
//! signals (RFC 9218 §2.1): a server follows RFC 9218 by default.
//!
//! The connection drives it with plain `u32` stream ids: [`Scheduler::insert`] when a stream
//! opens, [`Scheduler::set_ready`] when a stream has DATA queued and send window (or stops having
//! either), [`Scheduler::next`] to pick the stream whose DATA frame is written next, and
//! [`Scheduler::sent`] to charge the bytes written, then [`Scheduler::remove`] once it closes.
//!
//! Costs, because a peer controls the input (CVE-2019-9513, "resource loop"): every call is
//! O(depth × log fanout) or O(children × log fanout), never a scan of all streams; `next` and
//! `sent` allocate nothing. Depth is bounded by the number of nodes, which is the open streams
//! plus at most [`DEFAULT_MAX_IDLE`] idle streams known only through a priority signal (oldest
//! dropped first). No call can create a cycle, and no sequence of calls panics.

mod heap;
mod scheme;
mod tree;
mod urgency;

use crate::stream::IdMap;
use std::collections::hash_map::Entry;
use std::collections::VecDeque;

pub(crate) use scheme::Scheme;
pub(crate) use tree::Rfc7540Priority;

/// The root of the RFC 7540 §5.3.1 dependency tree: stream 0.
const ROOT: u32 = 0;

/// RFC 7540 §5.3.5: a stream with no priority signal depends on stream 0 with weight 16.
pub(crate) const DEFAULT_WEIGHT: u16 = 16;

/// RFC 9218 §4.1: the default urgency.
pub(crate) const DEFAULT_URGENCY: u8 = 3;

/// RFC 9218 §4.1: the least urgent level (urgency is 0..=7).
pub(crate) const MAX_URGENCY: u8 = 7;

/// How many idle streams (never opened, named only by PRIORITY or PRIORITY_UPDATE frames) are
/// kept by default. RFC 7540 §5.3.4 lets an endpoint bound this state; beyond the bound the
/// oldest idle stream is dropped, as if it had closed (RFC 7540 §5.3.4).
pub(crate) const DEFAULT_MAX_IDLE: usize = 1000;

/// Which priority scheme decides the order of DATA (RFC 9218 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// The RFC 7540 §5.3 dependency tree (see [`Scheme`] for when).
    #[default]
    Rfc7540,
    /// RFC 9218 urgency and incremental; RFC 7540 signals are ignored (RFC 9218 §2.1).
    Rfc9218,
}

/// The send scheduler of RFC 7540 §5.3 and RFC 9218 §10: picks the stream whose DATA goes next
/// and charges the bytes sent, so the peer observes bandwidth shared as its signals asked.
#[derive(Debug)]
pub(crate) struct Scheduler {
    /// Which scheme decides (RFC 9218 §2.1).
    mode: Mode,
    /// The tree root (stream 0), kept out of `nodes`: most walks end at it.
    root: Node,
    /// Every stream with priority state, except the root.
    nodes: IdMap<Node>,
    /// RFC 9218 §10: the ready streams of each urgency.
    levels: [urgency::Level; 8],
    /// Whether `levels` holds the ready streams. Until [`Mode::Rfc9218`] is chosen or an
    /// urgency is set, every stream has the default urgency and is not incremental, and only
    /// the charges of RFC 9218 §10 are kept (two counters of the default level): the queues of
    /// ready streams are filled from the ready flags when they are first needed. Their only
    /// observable part, the lowest ready id, does not depend on the order streams joined.
    levels_live: bool,
    /// Whether the RFC 7540 tree is kept (links, ready counts, queues). A scheduler that starts
    /// in [`Mode::Rfc9218`] keeps it dormant: until the tree is first chosen no RFC 7540 signal
    /// was applied, so every stream depends on the root with the default weight and only each
    /// node's `pass` (and the root's `vtime`) is charged. [`Scheduler::tree_go_live`] builds
    /// the rest from the ready flags; a server that never meets the tree never pays for it.
    tree_live: bool,
    /// Idle streams in creation order, with the `idle_seq` they had then (stale entries are
    /// skipped), so the oldest is dropped first.
    idle: VecDeque<(u32, u64)>,
    /// How many nodes are idle (not opened).
    idle_count: usize,
    /// How many of those a PRIORITY_UPDATE created (RFC 9218 §7.1 bounds them).
    idle_updated: usize,
    /// Stamps idle nodes, to tell a live entry of `idle` from a stale one.
    idle_seq: u64,
    /// The bound on `idle_count`.
    max_idle: usize,
}

/// The priority state of one stream (RFC 7540 §5.3 and RFC 9218 §4).
#[derive(Debug)]
struct Node {
    /// The stream was opened ([`Scheduler::insert`]); otherwise it is an idle stream kept only
    /// because a priority signal named it (RFC 7540 §5.3.4 / RFC 9218 §7).
    active: bool,
    /// The stream has DATA queued and send window (only an active stream can be ready).
    ready: bool,
    /// The stamp of this node's entry in `Scheduler::idle`, when idle.
    idle_seq: u64,
    /// An idle node created by an RFC 9218 signal (counted in `Scheduler::idle_updated`).
    updated_while_idle: bool,
    /// RFC 7540 §5.3: position in the dependency tree.
    tree: tree::Links,
    /// RFC 9218 §4: urgency and incremental.
    urgency: urgency::Signal,
}

impl Node {
    /// A stream with the default priority of RFC 7540 §5.3.5 and RFC 9218 §4.
    fn new(active: bool, idle_seq: u64) -> Node {
        Node {
            active,
            ready: false,
            idle_seq,
            updated_while_idle: false,
            tree: tree::Links::new(ROOT, DEFAULT_WEIGHT),
            urgency: urgency::Signal::default(),
        }
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    /// An empty scheduler in [`Mode::Rfc7540`] holding only the tree root (RFC 7540 §5.3.1).
    pub(crate) fn new() -> Self {
        Scheduler {
            mode: Mode::default(),
            root: Node::new(false, 0),
            nodes: IdMap::default(),
            levels: Default::default(),
            levels_live: false,
            tree_live: true,
            idle: VecDeque::new(),
            idle_count: 0,
            idle_updated: 0,
            idle_seq: 0,
            max_idle: DEFAULT_MAX_IDLE,
        }
    }

    /// Chooses the scheme that decides (RFC 9218 §2.1: [`Mode::Rfc9218`] once
    /// SETTINGS_NO_RFC7540_PRIORITIES = 1 was exchanged).
    #[inline]
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        if mode == self.mode
            && match mode {
                Mode::Rfc9218 => self.levels_live && (!self.tree_live || !self.nodes.is_empty()),
                Mode::Rfc7540 => self.tree_live,
            }
        {
            // Called for every stream that opens: nothing to do unless the mode changed.
            return;
        }
        self.mode = mode;
        match mode {
            Mode::Rfc9218 => {
                self.levels_go_live();
                // An empty tree is the flat tree a dormant one stands for (see `tree_live`).
                if self.nodes.is_empty() {
                    self.tree_live = false;
                }
            }
            Mode::Rfc7540 => self.tree_go_live(),
        }
    }

    /// Bounds the idle streams kept for their priority only (RFC 7540 §5.3.4 lets an endpoint
    /// limit this state); the oldest beyond `max` are dropped at once. 0 keeps none: PRIORITY
    /// and PRIORITY_UPDATE frames for idle streams are then ignored.
    pub(crate) fn set_max_idle(&mut self, max: usize) {
        self.max_idle = max;
        self.evict_idle();
    }

    /// A stream opened (HEADERS, or PUSH_PROMISE), with the RFC 7540 §5.3 priority field of its
    /// HEADERS if any. Without one it keeps the priority a PRIORITY frame gave it while idle,
    /// else gets the default (RFC 7540 §5.3.5). In [`Mode::Rfc9218`] the field is ignored.
    pub(crate) fn insert(&mut self, id: u32, prio: Option<Rfc7540Priority>) {
        if id == ROOT {
            return;
        }
        match self.nodes.entry(id) {
            Entry::Occupied(mut slot) => {
                let node = slot.get_mut();
                if !node.active {
                    node.active = true;
                    self.idle_count = self.idle_count.saturating_sub(1);
                    if std::mem::take(&mut node.updated_while_idle) {
                        self.idle_updated = self.idle_updated.saturating_sub(1);
                    }
                }
            }
            // The usual case, a stream no signal named while idle: one probe of the map.
            Entry::Vacant(slot) => {
                self.idle_seq = self.idle_seq.wrapping_add(1);
                slot.insert(Node::new(true, self.idle_seq));
                if self.tree_live {
                    self.tree_link(id, ROOT);
                }
            }
        }
        if let (Mode::Rfc7540, Some(prio)) = (self.mode, prio) {
            self.tree_reprioritize(id, prio);
        }
    }

    /// A PRIORITY frame (RFC 7540 §5.3.3). It may name a stream not opened yet: an idle stream
    /// is then kept for its priority, within the bound of [`Scheduler::set_max_idle`]. A stream
    /// depending on itself is a stream error the frame layer reports; here it is ignored. In
    /// [`Mode::Rfc9218`] the frame is ignored.
    pub(crate) fn reprioritize(&mut self, id: u32, prio: Rfc7540Priority) {
        if self.mode != Mode::Rfc7540 || id == ROOT || prio.dependency == id {
            return;
        }
        if !self.nodes.contains_key(&id) {
            if self.max_idle == 0 {
                return;
            }
            self.create(id, false);
        }
        self.tree_reprioritize(id, prio);
        self.evict_idle();
    }

    /// RFC 9218 §4: the Priority header field or a PRIORITY_UPDATE frame (§7) for stream `id`:
    /// `urgency` 0..=7 (larger values count as 7) and `incremental`. The latest call wins; an
    /// idle stream keeps it until it opens, within the bound of [`Scheduler::set_max_idle`].
    pub(crate) fn set_urgency(&mut self, id: u32, urgency: u8, incremental: bool) {
        if id == ROOT {
            return;
        }
        self.levels_go_live();
        if !self.nodes.contains_key(&id) {
            if self.max_idle == 0 {
                return;
            }
            self.create(id, false);
            if let Some(node) = self.nodes.get_mut(&id) {
                node.updated_while_idle = true;
                self.idle_updated += 1;
            }
        }
        self.urgency_set(id, urgency.min(MAX_URGENCY), incremental);
        self.evict_idle();
    }

    /// A stream closed: it leaves the scheduler. Its dependents move to its parent with its
    /// weight shared among them (RFC 7540 §5.3.4, see [`tree`]).
    pub(crate) fn remove(&mut self, id: u32) {
        if id == ROOT {
            return;
        }
        let removed = if self.tree_live {
            if self.levels_live {
                // Only a ready stream is queued (`check_levels`); most leave once drained.
                if let Some(node) = self.nodes.get(&id).filter(|n| n.ready) {
                    let signal = node.urgency;
                    self.level_leave_as(id, signal);
                }
            }
            self.tree_remove(id)
        } else {
            // One lookup: the node leaves the map first, then its level's queue (a queued
            // incremental stream's position is in the signal read from the removed node).
            let removed = self.nodes.remove(&id);
            if let Some(node) = removed.as_ref().filter(|n| n.ready && self.levels_live) {
                self.level_leave_as(id, node.urgency);
            }
            removed
        };
        if let Some(node) = removed {
            self.forget_idle(&node);
        }
    }

    /// A node that left the map no longer counts among the idle ones it was counted in.
    fn forget_idle(&mut self, node: &Node) {
        if !node.active {
            self.idle_count = self.idle_count.saturating_sub(1);
        }
        if node.updated_while_idle {
            self.idle_updated = self.idle_updated.saturating_sub(1);
        }
    }

    /// Whether stream `id` has DATA queued and send window (RFC 9113 §5.2): only ready streams
    /// are picked. Ignored for a stream that is not open.
    pub(crate) fn set_ready(&mut self, id: u32, ready: bool) {
        let Some(node) = self.node_mut(id) else {
            return;
        };
        if !node.active || node.ready == ready {
            return;
        }
        node.ready = ready;
        // Copied now: the calls below would each look the node up again for it.
        let signal = node.urgency;
        if self.tree_live {
            self.tree_add_ready(id, if ready { 1 } else { -1 });
        }
        if self.levels_live {
            if ready {
                self.level_join_as(id, signal);
            } else {
                self.level_leave_as(id, signal);
            }
        }
    }

    /// The ready stream whose DATA goes next, by the scheme of [`Mode`]; `None` when no stream
    /// is ready. Changes nothing: call [`Scheduler::sent`] with what was actually sent.
    #[must_use]
    pub(crate) fn next(&self) -> Option<u32> {
        match self.mode {
            Mode::Rfc7540 => self.tree_next(),
            Mode::Rfc9218 => self.urgency_next(),
        }
    }

    /// Charges `bytes` of DATA just sent on stream `id` to its share of the bandwidth (RFC 7540
    /// §5.3.2, RFC 9218 §10), in both schemes.
    pub(crate) fn sent(&mut self, id: u32, bytes: usize) {
        if id == ROOT {
            return;
        }
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let signal = node.urgency;
        if self.tree_live {
            self.tree_charge(id, bytes);
        } else {
            tree::charge_dormant(&mut node.tree, &mut self.root.tree, bytes);
        }
        if self.levels_live {
            self.urgency_charge_as(id, signal, bytes);
        } else {
            self.urgency_charge_default(bytes);
        }
    }

    /// [`Scheduler::set_ready`] to false, then [`Scheduler::sent`]: stream `id` sent `bytes`
    /// of DATA and has nothing more it can send now (its queue drained or its window closed).
    /// The usual case, the last frame of a response, looks the stream up once: while the tree
    /// is dormant a non-incremental stream's queue and charges need no other node.
    pub(crate) fn sent_last(&mut self, id: u32, bytes: usize) {
        let tree_live = self.tree_live;
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        if tree_live || node.urgency.incremental() || !node.active {
            // Other nodes move (the tree's ready counts, a heap's positions): the two calls.
            self.set_ready(id, false);
            self.sent(id, bytes);
            return;
        }
        let was_ready = std::mem::replace(&mut node.ready, false);
        let signal = node.urgency;
        tree::charge_dormant(&mut node.tree, &mut self.root.tree, bytes);
        if self.levels_live {
            if was_ready {
                self.level_leave_as(id, signal);
            }
            self.urgency_charge_as(id, signal, bytes);
        } else {
            self.urgency_charge_default(bytes);
        }
    }

    /// [`Scheduler::sent_last`], then [`Scheduler::remove`]: stream `id` sent its last `bytes`
    /// of DATA and closed with them (END_STREAM on a half-closed (remote) stream, a server's
    /// usual response). While the tree is dormant the node leaves the map first and is
    /// charged from there: one lookup for the pair.
    pub(crate) fn sent_and_remove(&mut self, id: u32, bytes: usize) {
        if id == ROOT {
            return;
        }
        if self.tree_live {
            // The charge walks the node's ancestors, which it must still be linked to.
            self.sent_last(id, bytes);
            self.remove(id);
            return;
        }
        let Some(mut node) = self.nodes.remove(&id) else {
            return;
        };
        let signal = node.urgency;
        if self.levels_live {
            if node.active && node.ready {
                // An incremental stream's queue position is in `signal`; the others' move.
                self.level_leave_as(id, signal);
            }
            // Charged unqueued, as after `set_ready(id, false)`: only the level's clocks move.
            self.urgency_charge_as(id, signal.unqueued(), bytes);
        } else {
            self.urgency_charge_default(bytes);
        }
        tree::charge_dormant(&mut node.tree, &mut self.root.tree, bytes);
        self.forget_idle(&node);
    }

    /// Whether stream `id` has priority state (open, or idle and named by a signal).
    pub(crate) fn knows(&self, id: u32) -> bool {
        self.nodes.contains_key(&id)
    }

    /// Idle streams that RFC 9218 signals (PRIORITY_UPDATE) named and that have not opened:
    /// RFC 9218 §7.1 bounds them, with the active streams, by SETTINGS_MAX_CONCURRENT_STREAMS.
    pub(crate) fn idle_updated(&self) -> usize {
        self.idle_updated
    }

    /// Whether stream `id` is open and ready (RFC 9113 §5.2: DATA queued and window open).
    // The connection keeps readiness itself; this is for diagnostics and tests.
    #[allow(dead_code)]
    pub(crate) fn is_ready(&self, id: u32) -> bool {
        self.nodes.get(&id).is_some_and(|node| node.ready)
    }

    /// For diagnostics: stream `id` is ready but waits for priority reasons: a ready ancestor
    /// (RFC 7540 §5.3.2) or a ready stream of lower urgency, or of the same urgency and a lower
    /// id when both are non-incremental (RFC 9218 §10).
    pub(crate) fn blocked_by_priority(&self, id: u32) -> bool {
        self.is_ready(id)
            && match self.mode {
                Mode::Rfc7540 => self.tree_blocked(id),
                Mode::Rfc9218 => self.urgency_blocked(id),
            }
    }

    /// The node of stream `id`, the root included.
    #[inline]
    fn node(&self, id: u32) -> Option<&Node> {
        if id == ROOT {
            Some(&self.root)
        } else {
            self.nodes.get(&id)
        }
    }

    /// The node of stream `id`, the root included.
    #[inline]
    fn node_mut(&mut self, id: u32) -> Option<&mut Node> {
        if id == ROOT {
            Some(&mut self.root)
        } else {
            self.nodes.get_mut(&id)
        }
    }

    /// Whether stream `id` has a node (the root always does).
    #[inline]
    fn has(&self, id: u32) -> bool {
        id == ROOT || self.nodes.contains_key(&id)
    }

    /// Fills the RFC 9218 queues from the ready flags, once (see `levels_live`). Ready streams
    /// join in id order, so the queues' layout does not depend on the map's.
    fn levels_go_live(&mut self) {
        if self.levels_live {
            return;
        }
        self.levels_live = true;
        let mut ready: Vec<u32> = self
            .nodes
            .iter()
            .filter(|(_, node)| node.ready)
            .map(|(&id, _)| id)
            .collect();
        ready.sort_unstable();
        for id in ready {
            self.level_join(id);
        }
    }

    /// Adds a node for stream `id` with the default priority, under the root; an idle one is
    /// queued for eviction.
    fn create(&mut self, id: u32, active: bool) {
        self.idle_seq = self.idle_seq.wrapping_add(1);
        self.nodes.insert(id, Node::new(active, self.idle_seq));
        if self.tree_live {
            self.tree_link(id, ROOT);
        }
        if !active {
            self.idle_count += 1;
            self.idle.push_back((id, self.idle_seq));
            // Entries of streams opened or closed since are stale; dropping them now and then
            // keeps the queue within twice the live entries, at O(1) amortized per stream.
            if self.idle.len() > 2 * self.idle_count + 64 {
                let nodes = &self.nodes;
                self.idle.retain(|&(id, seq)| is_idle(nodes, id, seq));
            }
        }
    }

    /// Drops the oldest idle streams beyond `max_idle` (RFC 7540 §5.3.4: as if closed).
    fn evict_idle(&mut self) {
        while self.idle_count > self.max_idle {
            let Some((id, seq)) = self.idle.pop_front() else {
                break;
            };
            if is_idle(&self.nodes, id, seq) {
                self.remove(id);
            }
        }
    }
}

/// Whether `(id, seq)` is the live entry of an idle stream in `Scheduler::idle`.
fn is_idle(nodes: &IdMap<Node>, id: u32, seq: u64) -> bool {
    nodes
        .get(&id)
        .is_some_and(|node| !node.active && node.idle_seq == seq)
}

#[cfg(test)]
impl Scheduler {
    /// Every node, the root first.
    fn all_nodes(&self) -> impl Iterator<Item = (u32, &Node)> {
        std::iter::once((ROOT, &self.root)).chain(self.nodes.iter().map(|(&id, n)| (id, n)))
    }

    /// Checks every invariant the scheduler relies on; panics with a message otherwise.
    fn check(&self) {
        self.check_tree();
        self.check_levels();
        let idle = self
            .nodes
            .iter()
            .filter(|&(&id, node)| id != ROOT && !node.active)
            .count();
        assert_eq!(idle, self.idle_count, "idle count");
        let updated = self
            .nodes
            .values()
            .filter(|node| node.updated_while_idle)
            .count();
        assert_eq!(
            updated, self.idle_updated,
            "idle streams named by PRIORITY_UPDATE"
        );
        assert!(
            self.nodes
                .values()
                .all(|node| !node.updated_while_idle || !node.active),
            "only idle nodes are counted"
        );
        assert!(idle <= self.max_idle, "idle bound");
        let live = self
            .idle
            .iter()
            .filter(|&&(id, seq)| is_idle(&self.nodes, id, seq))
            .count();
        assert_eq!(live, idle, "one live eviction entry per idle stream");
        for (&id, node) in &self.nodes {
            assert!(!node.ready || node.active, "{id} ready but not open");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed-seed LCG, so a failure replays.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }

        fn below(&mut self, n: u32) -> u32 {
            self.next() % n
        }
    }

    #[test]
    fn any_sequence_of_calls_keeps_the_scheduler_consistent() {
        for seed in 0..8u64 {
            let mut rng = Lcg(seed);
            let mut s = Scheduler::new();
            if seed % 2 == 1 {
                // As a server starts: RFC 9218 with the tree dormant until first chosen.
                s.set_mode(Mode::Rfc9218);
            }
            s.set_max_idle(6);
            for _ in 0..3000 {
                let id = match rng.below(100) {
                    0 => u32::MAX,
                    _ => rng.below(24),
                };
                match rng.below(20) {
                    0..=3 => {
                        let prio = (rng.below(2) == 0).then(|| Rfc7540Priority {
                            dependency: rng.below(26),
                            weight: [rng.below(260) as u16, 0, u16::MAX][rng.below(3) as usize],
                            exclusive: rng.below(3) == 0,
                        });
                        s.insert(id, prio);
                    }
                    4..=6 => s.reprioritize(
                        id,
                        Rfc7540Priority {
                            dependency: rng.below(26),
                            weight: rng.below(260) as u16,
                            exclusive: rng.below(2) == 0,
                        },
                    ),
                    7 => {
                        let urgency = [rng.below(8) as u8, 8, u8::MAX][rng.below(3) as usize];
                        s.set_urgency(id, urgency, rng.below(2) == 0);
                    }
                    8 => s.remove(id),
                    9..=11 => s.set_ready(id, rng.below(3) != 0),
                    12..=16 => {
                        let any_ready = s.nodes.values().any(|n| n.ready);
                        match s.next() {
                            Some(next) => {
                                assert!(s.is_ready(next), "next() gave {next}, not ready");
                                assert!(!s.blocked_by_priority(next), "{next} is blocked");
                                s.sent(next, rng.below(20_000) as usize);
                            }
                            None => assert!(!any_ready, "a stream is ready, next() gave none"),
                        }
                    }
                    17 => match rng.below(200) {
                        0 => s.sent(id, usize::MAX),
                        _ => s.sent(id, rng.below(100_000) as usize),
                    },
                    18 => s.set_mode(if rng.below(2) == 0 {
                        Mode::Rfc7540
                    } else {
                        Mode::Rfc9218
                    }),
                    _ => s.set_max_idle(rng.below(8) as usize),
                }
                s.check();
            }
        }
    }

    #[test]
    fn a_stream_closing_with_its_last_frame_leaves_as_if_charged_then_removed() {
        for (mode, incremental) in [
            (Mode::Rfc9218, false),
            (Mode::Rfc9218, true),
            (Mode::Rfc7540, false),
        ] {
            let mut pair = [Scheduler::new(), Scheduler::new()];
            for s in &mut pair {
                s.set_mode(mode);
                for id in [1, 3, 5, 7] {
                    s.insert(id, None);
                    if incremental && id != 7 {
                        s.set_urgency(id, 3, true);
                    }
                    s.set_ready(id, true);
                }
                s.sent(1, 500);
                s.sent(5, 200);
            }
            let [a, b] = &mut pair;
            a.sent_last(3, 700);
            a.remove(3);
            b.sent_and_remove(3, 700);
            a.check();
            b.check();
            assert!(!b.knows(3));
            for _ in 0..8 {
                let next = a.next();
                assert_eq!(next, b.next(), "{mode:?}, incremental {incremental}");
                let Some(id) = next else { break };
                a.sent(id, 300);
                b.sent(id, 300);
            }
            assert_eq!(format!("{:?}", a.root), format!("{:?}", b.root));
        }
    }

    #[test]
    fn calls_on_stream_zero_and_unknown_streams_change_nothing() {
        let mut s = Scheduler::new();
        s.insert(0, None);
        s.set_ready(0, true);
        s.set_ready(9, true);
        s.sent(0, 100);
        s.sent(9, 100);
        s.remove(0);
        s.remove(9);
        s.set_urgency(0, 1, true);
        assert_eq!(s.next(), None);
        assert!(!s.is_ready(9));
        assert_eq!(s.nodes.len(), 0);
        s.check();
    }

    #[test]
    fn a_dormant_tree_goes_live_with_the_ready_streams_under_the_root() {
        let mut s = Scheduler::new();
        s.set_mode(Mode::Rfc9218);
        assert!(!s.tree_live);
        for id in [1, 3, 5, 7] {
            s.insert(id, None);
        }
        s.set_ready(3, true);
        s.set_ready(5, true);
        s.set_ready(7, true);
        s.sent(3, 1000);
        s.remove(7);
        s.check();
        assert_eq!(s.next(), Some(3), "RFC 9218: the lowest id first");
        // The peer's first RFC 7540 signal chooses the tree (RFC 9218 §2.1).
        s.set_mode(Mode::Rfc7540);
        assert!(s.tree_live);
        s.check();
        assert_eq!(s.children(ROOT), vec![1, 3, 5]);
        assert_eq!(s.next(), Some(5), "3 was charged for its bytes, 5 was not");
        s.insert(
            9,
            Some(tree::Rfc7540Priority {
                dependency: 5,
                weight: 32,
                exclusive: true,
            }),
        );
        s.check();
        assert_eq!(s.children(5), vec![9]);
    }

    #[test]
    fn an_idle_stream_cannot_be_ready() {
        let mut s = Scheduler::new();
        s.set_urgency(5, 0, false);
        s.set_ready(5, true);
        assert_eq!(s.next(), None);
        s.insert(5, None);
        s.set_ready(5, true);
        assert_eq!(s.next(), Some(5));
        s.check();
    }
}
