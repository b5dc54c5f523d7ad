//! The RFC 7540 §5.3 dependency tree (kept by RFC 9113 §5.3.2 as deprecated, still widely sent).
//!
//! Structure (§5.3.1): every stream depends on a parent (stream 0 is the root) with a weight in
//! 1..=256. An exclusive dependency makes the stream the sole child of its parent, adopting the
//! parent's former children. A dependency on a stream that is not in the tree gives the stream the
//! default priority (§5.3.1, §5.3.5): root, weight 16, not exclusive.
//!
//! Reprioritization (§5.3.3): a stream moves with its whole subtree; if the new parent is one of
//! its own descendants, that descendant first moves to the stream's former parent, keeping its
//! weight. Hence a cycle can never form.
//!
//! Removal (§5.3.4): the children of a closed stream move to its parent and share its weight in
//! proportion to their own, `max(1, removed.weight * child.weight / sum of children weights)`
//! ("the weight of the dependency is redistributed to its dependencies"). Closed streams are not
//! kept in the tree afterwards; idle streams named by PRIORITY frames are, up to a bound.
//!
//! Scheduling (§5.3.2): a ready stream goes before its descendants; siblings share what their
//! parent's subtree gets in proportion to their weights. This is stride scheduling on bytes:
//! every node keeps a virtual `pass`; each node queues its children whose subtree holds a ready
//! stream in a min-heap by `(pass, id)`; `next` walks down from the root taking the head of each
//! heap; sending `n` bytes through node `c` adds `n * 256 / c.weight` to `c.pass` at every level.
//! A subtree that becomes ready again starts no earlier than its parent's virtual time, so idle
//! time is not banked.

use super::heap::{self, Entry, UNQUEUED};
use super::{Node, Scheduler, DEFAULT_WEIGHT, ROOT};
use crate::stream::IdMap;

/// The pass a node gains per byte at weight 1; at the maximum weight 256 it gains 1 per byte.
const WEIGHT_SCALE: u64 = 256;

/// RFC 7540 §5.3 (RFC 9113 §6.2, §6.3): the priority fields of HEADERS and PRIORITY frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rfc7540Priority {
    /// The stream depended on (§5.3.1); 0 is the root.
    pub dependency: u32,
    /// The weight (§5.3.2), 1..=256: the wire value plus one. Values outside are clamped.
    pub weight: u16,
    /// The E flag (§5.3.1): become the sole child of `dependency`.
    pub exclusive: bool,
}

impl Default for Rfc7540Priority {
    /// RFC 7540 §5.3.5: non-exclusive dependency on stream 0 with weight 16.
    fn default() -> Self {
        Rfc7540Priority {
            dependency: ROOT,
            weight: DEFAULT_WEIGHT,
            exclusive: false,
        }
    }
}

/// A node's place in the RFC 7540 §5.3 tree and its share of the bandwidth (§5.3.2).
#[derive(Debug)]
pub(super) struct Links {
    /// The stream depended on (§5.3.1); the root points to itself.
    parent: u32,
    /// This node's index in its parent's `children`.
    child_idx: u32,
    /// The streams depending on this one.
    children: Vec<u32>,
    /// §5.3.2: 1..=256.
    weight: u16,
    /// How many ready streams this subtree holds, this node included.
    subtree_ready: u32,
    /// Virtual time at which this node is next due among its siblings.
    pass: u64,
    /// This node's virtual time: the pass of the child it last served. A child whose subtree
    /// becomes ready starts no earlier.
    vtime: u64,
    /// Position in the parent's `ready_children`, or [`UNQUEUED`].
    heap_pos: u32,
    /// The children whose subtree holds a ready stream, by `(pass, id)`.
    ready_children: Vec<Entry>,
}

impl Links {
    /// An unlinked node of weight `weight`; [`Scheduler::tree_link`] gives it a parent.
    pub(super) fn new(parent: u32, weight: u16) -> Links {
        Links {
            parent,
            child_idx: 0,
            children: Vec::new(),
            weight,
            subtree_ready: 0,
            pass: 0,
            vtime: 0,
            heap_pos: UNQUEUED,
            ready_children: Vec::new(),
        }
    }
}

/// Records a heap position for `id`.
fn set_heap_pos(nodes: &mut IdMap<Node>, id: u32, pos: u32) {
    if let Some(node) = nodes.get_mut(&id) {
        node.tree.heap_pos = pos;
    }
}

/// [`Scheduler::tree_charge`] while the tree is dormant (see `Scheduler::tree_live`): `node` is
/// a child of the root with the default weight, in no queue.
pub(super) fn charge_dormant(node: &mut Links, root: &mut Links, bytes: usize) {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    let cost = (bytes.saturating_mul(WEIGHT_SCALE) / u64::from(DEFAULT_WEIGHT)).max(1);
    let served_at = node.pass;
    node.pass = served_at.saturating_add(cost);
    root.vtime = root.vtime.max(served_at);
}

/// §5.3.2: weights are 1..=256.
fn clamp_weight(weight: u16) -> u16 {
    weight.clamp(1, 256)
}

impl Scheduler {
    /// Makes `id` a child of `parent` in the children list only (no readiness bookkeeping).
    pub(super) fn tree_link(&mut self, id: u32, parent: u32) {
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let idx = p.tree.children.len() as u32;
        p.tree.children.push(id);
        if let Some(node) = self.node_mut(id) {
            node.tree.parent = parent;
            node.tree.child_idx = idx;
        }
    }

    /// Takes `id` out of its parent's children list in O(1) (no readiness bookkeeping).
    fn tree_unlink(&mut self, id: u32) {
        let Some(node) = self.node(id) else {
            return;
        };
        let (parent, idx) = (node.tree.parent, node.tree.child_idx as usize);
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let children = &mut p.tree.children;
        let idx = match children.get(idx) {
            Some(&child) if child == id => idx,
            // Not reachable while the invariants hold; a scan keeps it harmless if they did not.
            _ => match children.iter().position(|&c| c == id) {
                Some(idx) => idx,
                None => return,
            },
        };
        children.swap_remove(idx);
        if let Some(&moved) = children.get(idx) {
            if let Some(m) = self.node_mut(moved) {
                m.tree.child_idx = idx as u32;
            }
        }
    }

    /// Queues `child` in `parent`'s ready children, starting no earlier than the parent's
    /// virtual time (so time spent idle is not banked).
    fn heap_push(&mut self, parent: u32, child: u32) {
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let floor = match p.tree.ready_children.first() {
            Some(head) => head.key.max(p.tree.vtime),
            None => p.tree.vtime,
        };
        let mut queue = std::mem::take(&mut p.tree.ready_children);
        if let Some(c) = self.node_mut(child) {
            if c.tree.heap_pos == UNQUEUED {
                c.tree.pass = c.tree.pass.max(floor);
                let entry = Entry {
                    key: c.tree.pass,
                    id: child,
                };
                let nodes = &mut self.nodes;
                heap::push(&mut queue, entry, &mut |id, pos| {
                    set_heap_pos(nodes, id, pos)
                });
            }
        }
        self.put_queue(parent, queue);
    }

    /// Takes `child` out of `parent`'s ready children, if queued.
    fn heap_remove(&mut self, parent: u32, child: u32) {
        let Some(pos) = self.node(child).map(|c| c.tree.heap_pos) else {
            return;
        };
        if pos == UNQUEUED {
            return;
        }
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let mut queue = std::mem::take(&mut p.tree.ready_children);
        let nodes = &mut self.nodes;
        heap::remove(&mut queue, pos, &mut |id, pos| set_heap_pos(nodes, id, pos));
        self.put_queue(parent, queue);
    }

    /// Puts back a queue taken out of `parent` by `mem::take` (keeps its allocation).
    fn put_queue(&mut self, parent: u32, queue: Vec<Entry>) {
        if let Some(p) = self.node_mut(parent) {
            p.tree.ready_children = queue;
        }
    }

    /// `delta` ready streams appeared in (or left) the subtree of `id`: updates the counts up to
    /// the root, queueing or unqueueing each subtree that gains its first or loses its last.
    pub(super) fn tree_add_ready(&mut self, mut id: u32, delta: i64) {
        if delta == 0 {
            return;
        }
        for _ in 0..=self.nodes.len() {
            let Some(node) = self.node_mut(id) else {
                return;
            };
            let before = node.tree.subtree_ready;
            let after = (i64::from(before) + delta).clamp(0, i64::from(u32::MAX)) as u32;
            node.tree.subtree_ready = after;
            if id == ROOT {
                return;
            }
            let parent = node.tree.parent;
            if before == 0 && after > 0 {
                self.heap_push(parent, id);
            } else if before > 0 && after == 0 {
                self.heap_remove(parent, id);
            }
            id = parent;
        }
        debug_assert!(false, "tree walk longer than the tree: a cycle");
    }

    /// Takes the subtree of `id` away from its parent (the subtree itself stays intact).
    fn tree_detach(&mut self, id: u32) {
        let Some(node) = self.node(id) else {
            return;
        };
        let (parent, count) = (node.tree.parent, node.tree.subtree_ready);
        if count > 0 {
            self.heap_remove(parent, id);
            self.tree_add_ready(parent, -i64::from(count));
        }
        self.tree_unlink(id);
    }

    /// Hangs the detached subtree of `id` under `parent`.
    fn tree_attach(&mut self, id: u32, parent: u32) {
        self.tree_link(id, parent);
        let count = self.node(id).map_or(0, |n| n.tree.subtree_ready);
        if count > 0 {
            self.heap_push(parent, id);
            self.tree_add_ready(parent, i64::from(count));
        }
    }

    /// Whether `node` is `ancestor` or lies in its subtree: O(depth).
    fn tree_in_subtree(&self, mut node: u32, ancestor: u32) -> bool {
        for _ in 0..=self.nodes.len() {
            if node == ancestor {
                return true;
            }
            if node == ROOT {
                return false;
            }
            match self.node(node) {
                Some(n) => node = n.tree.parent,
                None => return false,
            }
        }
        false
    }

    /// Builds the dormant tree (see `Scheduler::tree_live`): every stream a child of the root
    /// with the default weight, as no RFC 7540 signal has moved one; the ready ones queued by
    /// the pass they were charged, starting no earlier than the root's virtual time. Streams
    /// join in id order, so the result does not depend on the map's layout.
    pub(super) fn tree_go_live(&mut self) {
        if self.tree_live {
            return;
        }
        self.tree_live = true;
        let mut ids: Vec<u32> = self.nodes.keys().copied().collect();
        ids.sort_unstable();
        let vtime = self.root.tree.vtime;
        let mut ready = 0u32;
        for id in ids {
            self.tree_link(id, ROOT);
            let Some(node) = self.nodes.get_mut(&id) else {
                continue;
            };
            if !node.ready {
                continue;
            }
            node.tree.subtree_ready = 1;
            node.tree.pass = node.tree.pass.max(vtime);
            let entry = Entry {
                key: node.tree.pass,
                id,
            };
            ready += 1;
            let nodes = &mut self.nodes;
            heap::push(&mut self.root.tree.ready_children, entry, &mut |id, pos| {
                set_heap_pos(nodes, id, pos)
            });
        }
        self.root.tree.subtree_ready = ready;
    }

    /// §5.3.3: moves `id` (with its subtree) as `prio` says; `id` is in the tree.
    pub(super) fn tree_reprioritize(&mut self, id: u32, prio: Rfc7540Priority) {
        // Signals are applied only in `Mode::Rfc7540`, where the tree is live; this keeps a
        // dormant tree flat whatever the caller.
        self.tree_go_live();
        if id == ROOT || prio.dependency == id || !self.has(id) {
            return;
        }
        let prio = if prio.dependency == ROOT || self.has(prio.dependency) {
            prio
        } else {
            // §5.3.1: a dependency on a stream not in the tree gives the default priority.
            Rfc7540Priority::default()
        };
        let parent = prio.dependency;
        if self.tree_in_subtree(parent, id) {
            // §5.3.3: the descendant first moves to where `id` was, keeping its weight.
            let former = self.node(id).map_or(ROOT, |n| n.tree.parent);
            self.tree_detach(parent);
            self.tree_attach(parent, former);
        }
        self.tree_detach(id);
        if let Some(node) = self.node_mut(id) {
            node.tree.weight = clamp_weight(prio.weight);
        }
        if prio.exclusive {
            self.tree_adopt_children(id, parent);
        } else {
            self.tree_attach(id, parent);
        }
    }

    /// §5.3.1 exclusive: the detached `id` becomes the sole child of `parent`, whose former
    /// children become children of `id`. O(children × log children).
    fn tree_adopt_children(&mut self, id: u32, parent: u32) {
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        let adopted = std::mem::take(&mut p.tree.children);
        // The whole queue goes: every adopted child is requeued under `id` below.
        let mut queue = std::mem::take(&mut p.tree.ready_children);
        for entry in queue.drain(..) {
            if let Some(c) = self.node_mut(entry.id) {
                c.tree.heap_pos = UNQUEUED;
            }
        }
        self.put_queue(parent, queue);
        let own = self.node(id).map_or(0, |n| n.tree.subtree_ready);
        let mut moved = 0u32;
        for child in adopted {
            self.tree_link(child, id);
            let count = self.node(child).map_or(0, |c| c.tree.subtree_ready);
            if count > 0 {
                self.heap_push(id, child);
                moved = moved.saturating_add(count);
            }
        }
        if let Some(node) = self.node_mut(id) {
            node.tree.subtree_ready = own.saturating_add(moved);
        }
        // `parent` already counts the adopted streams; only those of `id` itself are new.
        self.tree_link(id, parent);
        if own.saturating_add(moved) > 0 {
            self.heap_push(parent, id);
        }
        self.tree_add_ready(parent, i64::from(own));
    }

    /// §5.3.4: takes `id` out of the tree; its children move to its parent, sharing its weight.
    /// Returns the node, which is no longer in `nodes`.
    pub(super) fn tree_remove(&mut self, id: u32) -> Option<Node> {
        if id == ROOT {
            return None;
        }
        let parent = self.node(id)?.tree.parent;
        self.heap_remove(parent, id);
        self.tree_unlink(id);
        let removed = self.nodes.remove(&id)?;
        let children = &removed.tree.children;
        let sum: u64 = children
            .iter()
            .filter_map(|c| self.nodes.get(c))
            .map(|c| u64::from(c.tree.weight))
            .sum();
        for &child in children {
            let Some(c) = self.node_mut(child) else {
                continue;
            };
            // `removed.ready_children` goes away with `removed`.
            c.tree.heap_pos = UNQUEUED;
            let share = u64::from(removed.tree.weight) * u64::from(c.tree.weight) / sum.max(1);
            c.tree.weight = clamp_weight(share.min(256) as u16);
            let ready = c.tree.subtree_ready > 0;
            self.tree_link(child, parent);
            if ready {
                self.heap_push(parent, child);
            }
        }
        // The parent keeps counting the children's ready streams; only `id`'s own one leaves.
        if removed.ready {
            self.tree_add_ready(parent, -1);
        }
        Some(removed)
    }

    /// §5.3.2: the first ready stream on the way down from the root, taking at each node the
    /// child subtree that is due first. O(depth), no allocation.
    pub(super) fn tree_next(&self) -> Option<u32> {
        let mut id = ROOT;
        for _ in 0..=self.nodes.len() {
            let node = self.node(id)?;
            if id != ROOT && node.ready {
                return Some(id);
            }
            id = node.tree.ready_children.first()?.id;
        }
        None
    }

    /// §5.3.2: `bytes` went through every node from `id` up to the root; each pays in
    /// proportion to the inverse of its weight, among its siblings.
    pub(super) fn tree_charge(&mut self, mut id: u32, bytes: usize) {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        for _ in 0..=self.nodes.len() {
            if id == ROOT {
                return;
            }
            let Some(node) = self.node_mut(id) else {
                return;
            };
            let cost =
                (bytes.saturating_mul(WEIGHT_SCALE) / u64::from(node.tree.weight.max(1))).max(1);
            let served_at = node.tree.pass;
            node.tree.pass = served_at.saturating_add(cost);
            let (parent, pos, key) = (node.tree.parent, node.tree.heap_pos, node.tree.pass);
            let Some(p) = self.node_mut(parent) else {
                return;
            };
            p.tree.vtime = p.tree.vtime.max(served_at);
            if pos != UNQUEUED {
                let mut queue = std::mem::take(&mut p.tree.ready_children);
                let nodes = &mut self.nodes;
                heap::update(&mut queue, pos, key, &mut |id, pos| {
                    set_heap_pos(nodes, id, pos)
                });
                self.put_queue(parent, queue);
            }
            id = parent;
        }
    }

    /// §5.3.2: some ancestor of `id` (not the root) is ready, so it goes first.
    pub(super) fn tree_blocked(&self, id: u32) -> bool {
        let mut id = id;
        for _ in 0..=self.nodes.len() {
            let Some(node) = self.node(id) else {
                return false;
            };
            id = node.tree.parent;
            if id == ROOT {
                return false;
            }
            if self.node(id).is_some_and(|n| n.ready) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
impl Scheduler {
    /// The parent and weight of `id` (§5.3.1, §5.3.2).
    fn dep(&self, id: u32) -> (u32, u16) {
        let node = self.node(id).expect("node");
        (node.tree.parent, node.tree.weight)
    }

    /// The children of `id`, sorted.
    pub(super) fn children(&self, id: u32) -> Vec<u32> {
        let mut children = self.node(id).expect("node").tree.children.clone();
        children.sort_unstable();
        children
    }

    /// Tree invariants: acyclic, links agree both ways, counts and queues exact.
    pub(super) fn check_tree(&self) {
        if !self.tree_live {
            assert_eq!(
                self.mode,
                super::Mode::Rfc9218,
                "dormant tree in RFC 7540 mode"
            );
            let root = &self.root.tree;
            assert!(root.children.is_empty() && root.ready_children.is_empty());
            assert_eq!(root.subtree_ready, 0, "root ready count while dormant");
            for (&id, node) in &self.nodes {
                let t = &node.tree;
                assert_eq!((t.parent, t.weight), (ROOT, DEFAULT_WEIGHT), "{id} moved");
                assert!(t.children.is_empty() && t.ready_children.is_empty(), "{id}");
                assert_eq!((t.subtree_ready, t.heap_pos), (0, UNQUEUED), "{id} queued");
            }
            return;
        }
        for (id, node) in self.all_nodes() {
            let t = &node.tree;
            assert!((1..=256).contains(&t.weight), "{id}: weight {}", t.weight);
            if id != ROOT {
                assert!(
                    self.tree_in_subtree(id, ROOT),
                    "{id} does not reach the root"
                );
                let parent = &self.node(t.parent).expect("parent").tree;
                assert_eq!(
                    parent.children.get(t.child_idx as usize),
                    Some(&id),
                    "{id} idx"
                );
            }
            let mut count = u32::from(node.ready);
            for (i, &c) in t.children.iter().enumerate() {
                let child = &self.nodes[&c].tree;
                assert_eq!(child.parent, id, "{c} parent");
                assert_eq!(child.child_idx as usize, i, "{c} idx");
                count += child.subtree_ready;
                let queued = child.heap_pos != UNQUEUED;
                assert_eq!(
                    queued,
                    child.subtree_ready > 0,
                    "{c} queued iff ready inside"
                );
                if queued {
                    let entry = t.ready_children[child.heap_pos as usize];
                    assert_eq!(
                        entry,
                        Entry {
                            key: child.pass,
                            id: c
                        },
                        "{c} entry"
                    );
                }
            }
            assert_eq!(t.subtree_ready, count, "{id} ready count");
            let queued = t
                .children
                .iter()
                .filter(|c| self.nodes[c].tree.subtree_ready > 0);
            assert_eq!(t.ready_children.len(), queued.count(), "{id} queue length");
            for (i, e) in t.ready_children.iter().enumerate() {
                assert!(
                    i == 0 || t.ready_children[(i - 1) / 2] <= *e,
                    "{id} heap order"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Mode, DEFAULT_MAX_IDLE};
    use super::*;
    use std::collections::HashMap;

    fn prio(dependency: u32, weight: u16, exclusive: bool) -> Rfc7540Priority {
        Rfc7540Priority {
            dependency,
            weight,
            exclusive,
        }
    }

    /// Sends `chunk`-byte frames as the scheduler picks until `total` bytes; bytes per stream.
    fn run(s: &mut Scheduler, chunk: usize, total: usize) -> HashMap<u32, usize> {
        let mut sent = HashMap::new();
        let mut done = 0;
        while done < total {
            let id = s.next().expect("a stream is ready");
            s.sent(id, chunk);
            *sent.entry(id).or_insert(0) += chunk;
            done += chunk;
        }
        s.check();
        sent
    }

    #[test]
    fn siblings_weighted_4_and_12_share_bandwidth_1_to_3() {
        let mut s = Scheduler::new();
        s.insert(1, None); // A, never ready
        s.insert(3, Some(prio(1, 4, false))); // B
        s.insert(5, Some(prio(1, 12, false))); // C
        s.set_ready(3, true);
        s.set_ready(5, true);
        let sent = run(&mut s, 16_384, 1 << 20);
        let ratio = sent[&5] as f64 / sent[&3] as f64;
        assert!((ratio - 3.0).abs() <= 0.15, "C:B = {ratio}");
    }

    #[test]
    fn siblings_of_unequal_weight_share_in_proportion_with_odd_chunks() {
        let mut s = Scheduler::new();
        s.insert(1, Some(prio(0, 1, false)));
        s.insert(3, Some(prio(0, 256, false)));
        s.insert(5, Some(prio(0, 37, false)));
        for id in [1, 3, 5] {
            s.set_ready(id, true);
        }
        let sent = run(&mut s, 1_000, 2_940_000);
        let share = |id| sent.get(&id).copied().unwrap_or(0) as f64 / 2_940_000.0;
        for (id, weight) in [(1, 1.0), (3, 256.0), (5, 37.0)] {
            let expected = weight / 294.0;
            assert!(
                (share(id) - expected).abs() <= 0.05 * expected + 0.001,
                "{id}"
            );
        }
    }

    #[test]
    fn siblings_of_equal_weight_share_bandwidth_evenly() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, None);
        s.set_ready(1, true);
        s.set_ready(3, true);
        let sent = run(&mut s, 16_384, 1 << 20);
        assert_eq!(sent[&1], sent[&3]);
        // Strict alternation: neither goes twice in a row.
        let first = s.next().unwrap();
        s.sent(first, 100);
        assert_ne!(s.next(), Some(first));
    }

    #[test]
    fn a_ready_parent_goes_before_its_children() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, Some(prio(1, 256, false)));
        s.insert(5, Some(prio(3, 256, false)));
        s.set_ready(3, true);
        s.set_ready(5, true);
        assert_eq!(s.next(), Some(3));
        assert!(s.blocked_by_priority(5));
        assert!(!s.blocked_by_priority(3));
        s.sent(3, 16_384);
        assert_eq!(s.next(), Some(3), "still ready, still first");
        s.set_ready(3, false);
        assert_eq!(s.next(), Some(5));
        assert!(!s.blocked_by_priority(5));
        s.set_ready(1, true);
        assert_eq!(s.next(), Some(1));
        assert!(s.blocked_by_priority(5));
        s.check();
    }

    /// RFC 7540 §5.3.1, figure 3: D is added as a sibling of B and C.
    #[test]
    fn a_non_exclusive_insert_adds_a_sibling() {
        let mut s = Scheduler::new();
        s.insert(1, None); // A
        s.insert(3, Some(prio(1, 16, false))); // B
        s.insert(5, Some(prio(1, 16, false))); // C
        s.insert(7, Some(prio(1, 16, false))); // D
        assert_eq!(s.children(1), vec![3, 5, 7]);
        s.check();
    }

    /// RFC 7540 §5.3.1, figure 4: exclusive D becomes A's sole child, B and C its children.
    #[test]
    fn an_exclusive_insert_adopts_the_former_children() {
        let mut s = Scheduler::new();
        s.insert(1, None); // A
        s.insert(3, Some(prio(1, 16, false))); // B
        s.insert(5, Some(prio(1, 16, false))); // C
        s.set_ready(3, true);
        s.set_ready(5, true);
        s.insert(7, Some(prio(1, 16, true))); // D
        assert_eq!(s.children(1), vec![7]);
        assert_eq!(s.children(7), vec![3, 5]);
        assert_eq!(s.dep(3), (7, 16));
        s.check();
        // B and C are still scheduled, through D; once D is ready it goes first.
        assert!(matches!(s.next(), Some(3 | 5)));
        s.set_ready(7, true);
        assert_eq!(s.next(), Some(7));
        assert!(s.blocked_by_priority(3));
        s.check();
    }

    /// The tree of RFC 7540 §5.3.3, figure 5 (left): ? - A - (B, C - (D - F, E)).
    fn figure_5() -> Scheduler {
        let mut s = Scheduler::new();
        s.insert(1, None); // A
        s.insert(3, Some(prio(1, 16, false))); // B
        s.insert(5, Some(prio(1, 16, false))); // C
        s.insert(7, Some(prio(5, 16, false))); // D
        s.insert(9, Some(prio(5, 16, false))); // E
        s.insert(11, Some(prio(7, 16, false))); // F
        s
    }

    /// §5.3.3 figure 5, middle: A moved under its descendant D, non-exclusively.
    #[test]
    fn reprioritizing_onto_a_descendant_moves_the_descendant_up_first() {
        let mut s = figure_5();
        s.reprioritize(1, prio(7, 16, false));
        assert_eq!(s.children(0), vec![7]);
        assert_eq!(s.children(7), vec![1, 11]);
        assert_eq!(s.children(1), vec![3, 5]);
        assert_eq!(s.children(5), vec![9]);
        s.check();
    }

    /// §5.3.3 figure 5, right: A moved under its descendant D, exclusively.
    #[test]
    fn reprioritizing_exclusively_onto_a_descendant_gives_the_rfc_tree() {
        let mut s = figure_5();
        for id in [3, 9, 11] {
            s.set_ready(id, true);
        }
        s.reprioritize(1, prio(7, 16, true));
        assert_eq!(s.children(0), vec![7]);
        assert_eq!(s.children(7), vec![1]);
        assert_eq!(s.children(1), vec![3, 5, 11]);
        assert_eq!(s.children(5), vec![9]);
        s.check();
    }

    #[test]
    fn removing_a_stream_moves_its_children_to_its_parent_sharing_its_weight() {
        let mut s = Scheduler::new();
        s.insert(1, Some(prio(0, 64, false)));
        s.insert(3, Some(prio(1, 10, false)));
        s.insert(5, Some(prio(1, 30, false)));
        s.insert(7, Some(prio(0, 16, false)));
        s.set_ready(1, true);
        s.set_ready(3, true);
        s.set_ready(5, true);
        s.remove(1);
        assert_eq!(s.children(0), vec![3, 5, 7]);
        assert_eq!(s.dep(3), (0, 16)); // 64 * 10 / 40
        assert_eq!(s.dep(5), (0, 48)); // 64 * 30 / 40
        s.check();
        let sent = run(&mut s, 1_000, 640_000);
        assert_eq!(sent[&3] * 3, sent[&5]);
        s.remove(3);
        s.remove(5);
        assert_eq!(s.next(), None);
        s.check();
    }

    #[test]
    fn redistributed_weights_are_at_least_one() {
        let mut s = Scheduler::new();
        s.insert(1, Some(prio(0, 1, false)));
        s.insert(3, Some(prio(1, 1, false)));
        s.insert(5, Some(prio(1, 256, false)));
        s.remove(1);
        assert_eq!(s.dep(3), (0, 1));
        assert_eq!(s.dep(5), (0, 1));
        s.check();
    }

    #[test]
    fn a_dependency_on_a_stream_not_in_the_tree_gives_the_default_priority() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, Some(prio(1, 100, false)));
        s.insert(5, Some(prio(99, 100, true)));
        assert_eq!(s.dep(5), (0, 16));
        s.reprioritize(3, prio(77, 200, true));
        assert_eq!(s.dep(3), (0, 16));
        assert_eq!(s.children(0), vec![1, 3, 5]);
        s.check();
    }

    #[test]
    fn a_stream_depending_on_itself_is_ignored() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, Some(prio(1, 100, false)));
        s.reprioritize(3, prio(3, 7, true));
        assert_eq!(s.dep(3), (1, 100));
        s.insert(5, Some(prio(5, 7, true)));
        assert_eq!(s.dep(5), (0, 16));
        s.check();
    }

    #[test]
    fn a_priority_frame_for_an_idle_stream_is_kept_until_it_opens() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.reprioritize(3, prio(1, 200, false)); // idle
        s.set_ready(3, true);
        assert!(!s.is_ready(3), "an idle stream has nothing to send");
        s.insert(5, Some(prio(3, 16, false))); // depends on the idle stream
        assert_eq!(s.dep(5), (3, 16));
        s.insert(3, None);
        assert_eq!(s.dep(3), (1, 200), "HEADERS without priority keeps it");
        assert_eq!(s.idle_count, 0);
        // Once open it no longer counts as idle: a flood of idle streams cannot drop it.
        for id in (101..2 * DEFAULT_MAX_IDLE as u32 + 301).step_by(2) {
            s.reprioritize(id, prio(0, 16, false));
        }
        assert_eq!(s.dep(3), (1, 200));
        assert_eq!(s.dep(5), (3, 16));
        s.check();
    }

    #[test]
    fn idle_streams_beyond_the_bound_are_dropped_oldest_first() {
        let mut s = Scheduler::new();
        s.set_max_idle(3);
        s.insert(1, None);
        s.reprioritize(3, prio(0, 16, false));
        s.reprioritize(5, prio(3, 16, false));
        s.insert(11, Some(prio(5, 16, false)));
        s.reprioritize(7, prio(0, 16, false));
        s.reprioritize(9, prio(0, 16, false)); // drops 3: 5 moves to the root
        assert!(!s.nodes.contains_key(&3));
        assert_eq!(s.dep(5).0, 0);
        assert_eq!(s.dep(11).0, 5);
        s.reprioritize(13, prio(0, 16, false)); // drops 5: 11 moves to the root
        assert_eq!(s.dep(11).0, 0);
        assert_eq!(s.idle_count, 3);
        s.check();
        s.set_max_idle(0);
        assert_eq!(s.children(0), vec![1, 11]);
        s.reprioritize(15, prio(0, 16, false));
        assert!(!s.nodes.contains_key(&15));
        s.check();
    }

    #[test]
    fn idle_streams_that_open_and_close_leave_no_state_behind() {
        let mut s = Scheduler::new();
        for id in (1..20_001).step_by(2) {
            s.reprioritize(id, prio(0, 16, false));
            s.insert(id, None);
            s.remove(id);
        }
        assert_eq!(s.nodes.len(), 0);
        assert!(s.idle.len() <= 64, "stale eviction entries are dropped");
        s.check();
    }

    /// CVE-2019-9513: a flood of PRIORITY frames for idle streams stays bounded and cheap.
    #[test]
    fn a_priority_flood_on_idle_streams_stays_bounded() {
        let mut s = Scheduler::new();
        for id in (1..200).step_by(2) {
            s.insert(id, None);
            s.set_ready(id, true);
        }
        let mut state = 1u32;
        for i in 0..50_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let id = 1001 + 2 * (state >> 8) % 100_000;
            let dependency = if i % 3 == 0 {
                (state >> 4) % 400
            } else {
                id - 2
            };
            s.reprioritize(id, prio(dependency, (i % 256) as u16 + 1, i % 5 == 0));
            if i % 10_000 == 0 {
                s.check();
            }
        }
        assert!(s.nodes.len() <= 1 + 100 + DEFAULT_MAX_IDLE);
        assert!(s.idle.len() <= 2 * DEFAULT_MAX_IDLE + 64);
        s.check();
        // Every open stream is still reachable: serving each once drains them all.
        let mut served = 0;
        while let Some(id) = s.next() {
            s.sent(id, 1_000);
            s.set_ready(id, false);
            served += 1;
            assert!(served <= 100);
        }
        assert_eq!(served, 100);
    }

    #[test]
    fn a_thousand_ready_siblings_are_served_round_robin() {
        let mut s = Scheduler::new();
        for id in 1..=1000 {
            s.insert(id, None);
            s.set_ready(id, true);
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = s.next().unwrap();
            assert!(seen.insert(id), "{id} served twice in one round");
            s.sent(id, 16_384);
        }
        s.check();
    }

    #[test]
    fn idle_time_is_not_banked() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, None);
        s.set_ready(1, true);
        run(&mut s, 16_384, 10 << 20); // 1 alone for a long time
        s.set_ready(3, true);
        let sent = run(&mut s, 16_384, 1 << 20);
        assert_eq!(sent[&1], sent[&3], "3 did not bank the time it was idle");
    }

    #[test]
    fn a_stream_is_not_penalized_for_bandwidth_it_used_alone() {
        let mut s = Scheduler::new();
        s.insert(1, None);
        s.insert(3, None);
        s.set_ready(1, true);
        run(&mut s, 16_384, 100 * 16_384); // 1 alone
        s.set_ready(1, false);
        s.set_ready(3, true); // starts at the root's virtual time, not at 0
        s.set_ready(1, true);
        let order: Vec<u32> = (0..4)
            .map(|_| {
                let id = s.next().unwrap();
                s.sent(id, 16_384);
                id
            })
            .collect();
        assert_eq!(order, vec![3, 1, 3, 1]);
    }

    #[test]
    fn a_subtree_shares_its_parent_bandwidth_among_its_leaves() {
        // Root: X (weight 16) and Y (weight 16); under X: three leaves; Y is a leaf.
        let mut s = Scheduler::new();
        s.insert(1, None); // X, never ready
        s.insert(3, None); // Y
        for id in [5, 7, 9] {
            s.insert(id, Some(prio(1, 16, false)));
            s.set_ready(id, true);
        }
        s.set_ready(3, true);
        let sent = run(&mut s, 1_000, 1_200_000);
        assert_eq!(sent[&3], 600_000);
        for id in [5, 7, 9] {
            assert_eq!(sent[&id], 200_000);
        }
    }

    #[test]
    fn a_deep_chain_is_walked_without_recursion() {
        let mut s = Scheduler::new();
        s.set_max_idle(1_000);
        for id in 1..1_000 {
            s.reprioritize(id, prio(id - 1, 16, false));
        }
        s.insert(999, None);
        s.set_ready(999, true);
        assert_eq!(s.next(), Some(999));
        s.sent(999, 10);
        s.reprioritize(1, prio(999, 16, true)); // onto its deepest descendant
        s.check();
        assert_eq!(s.next(), Some(999));
        assert_eq!(s.dep(1).0, 999);
    }

    #[test]
    fn rfc9218_mode_ignores_rfc7540_signals() {
        let mut s = Scheduler::new();
        s.set_mode(Mode::Rfc9218);
        s.insert(1, None);
        s.insert(3, Some(prio(1, 200, true)));
        assert_eq!(s.dep(3), (0, 16));
        s.reprioritize(3, prio(1, 200, true));
        s.reprioritize(5, prio(1, 200, true));
        assert_eq!(s.dep(3), (0, 16));
        assert!(!s.nodes.contains_key(&5));
        s.check();
    }
}
