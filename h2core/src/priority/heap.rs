//! An indexed binary min-heap of `(key, stream id)`: the "who goes next" queue of both schemes
//! (the ready children of a node, RFC 7540 §5.3.2; the incremental streams of one urgency,
//! RFC 9218 §10).
//!
//! Each queued stream remembers its position (through `set_pos`), so a stream leaves the queue or
//! changes its key in O(log n) without a scan: a node with a thousand ready children stays cheap.
//! Ties on the key go to the lower stream id, which keeps every schedule deterministic.

/// The position of a stream that is in no queue.
pub(super) const UNQUEUED: u32 = u32::MAX;

/// One queued stream; ordered by `key`, then by `id` (RFC 9218 §10 ascending stream id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    /// The virtual time at which the stream is due (or the id itself, for sequential order).
    pub(super) key: u64,
    /// The stream.
    pub(super) id: u32,
}

/// Queues `entry`; `set_pos(id, pos)` records every position that changes.
pub(super) fn push(heap: &mut Vec<Entry>, entry: Entry, set_pos: &mut impl FnMut(u32, u32)) {
    heap.push(entry);
    let last = heap.len() - 1;
    if sift_up(heap, last, set_pos) == last {
        set_pos(entry.id, last as u32);
    }
}

/// Takes the entry at `pos` out of the queue; its position becomes [`UNQUEUED`].
pub(super) fn remove(
    heap: &mut Vec<Entry>,
    pos: u32,
    set_pos: &mut impl FnMut(u32, u32),
) -> Option<Entry> {
    let pos = pos as usize;
    if pos >= heap.len() {
        return None;
    }
    let removed = heap.swap_remove(pos);
    set_pos(removed.id, UNQUEUED);
    if pos < heap.len() {
        // The former last entry now sits at `pos`; it may belong above or below, and its
        // recorded position is stale until it lands.
        let moved = heap[pos].id;
        let up = sift_up(heap, pos, set_pos);
        if up == pos && sift_down(heap, pos, set_pos) == pos {
            set_pos(moved, pos as u32);
        }
    }
    Some(removed)
}

/// Gives the entry at `pos` a new key and restores the heap order.
pub(super) fn update(heap: &mut [Entry], pos: u32, key: u64, set_pos: &mut impl FnMut(u32, u32)) {
    let pos = pos as usize;
    let Some(entry) = heap.get_mut(pos) else {
        return;
    };
    entry.key = key;
    let pos = sift_up(heap, pos, set_pos);
    sift_down(heap, pos, set_pos);
}

/// Moves the entry at `pos` up while it is smaller than its parent; returns where it lands.
/// Positions are recorded only for entries that moved (each costs a lookup of the stream's
/// node): a caller whose entry is new at `pos` and stays there records it itself.
fn sift_up(heap: &mut [Entry], mut pos: usize, set_pos: &mut impl FnMut(u32, u32)) -> usize {
    let (entry, start) = (heap[pos], pos);
    while pos > 0 {
        let parent = (pos - 1) / 2;
        if heap[parent] <= entry {
            break;
        }
        heap[pos] = heap[parent];
        set_pos(heap[pos].id, pos as u32);
        pos = parent;
    }
    if pos != start {
        heap[pos] = entry;
        set_pos(entry.id, pos as u32);
    }
    pos
}

/// Moves the entry at `pos` down while a child is smaller; returns where it lands. As in
/// [`sift_up`], only the entries that moved have their position recorded.
fn sift_down(heap: &mut [Entry], mut pos: usize, set_pos: &mut impl FnMut(u32, u32)) -> usize {
    let (entry, start) = (heap[pos], pos);
    loop {
        let left = 2 * pos + 1;
        if left >= heap.len() {
            break;
        }
        let right = left + 1;
        let child = if right < heap.len() && heap[right] < heap[left] {
            right
        } else {
            left
        };
        if entry <= heap[child] {
            break;
        }
        heap[pos] = heap[child];
        set_pos(heap[pos].id, pos as u32);
        pos = child;
    }
    if pos != start {
        heap[pos] = entry;
        set_pos(entry.id, pos as u32);
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn check(heap: &[Entry], pos: &HashMap<u32, u32>) {
        for (i, e) in heap.iter().enumerate() {
            assert_eq!(pos[&e.id], i as u32, "position of {}", e.id);
            if i > 0 {
                assert!(heap[(i - 1) / 2] <= *e, "heap order at {i}");
            }
        }
    }

    #[test]
    fn entries_come_out_by_key_then_lower_id_and_positions_stay_exact() {
        let mut heap = Vec::new();
        let mut pos = HashMap::new();
        let mut state = 7u64;
        for id in 0..200u32 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let key = (state >> 33) % 50;
            push(&mut heap, Entry { key, id }, &mut |i, p| {
                pos.insert(i, p);
            });
            check(&heap, &pos);
        }
        for id in (0..200u32).step_by(3) {
            let p = pos[&id];
            update(&mut heap, p, u64::from(id % 7), &mut |i, p| {
                pos.insert(i, p);
            });
            check(&heap, &pos);
        }
        for id in (0..200u32).step_by(5) {
            let p = pos[&id];
            assert_eq!(
                remove(&mut heap, p, &mut |i, p| {
                    pos.insert(i, p);
                })
                .map(|e| e.id),
                Some(id)
            );
            assert_eq!(pos[&id], UNQUEUED);
            check(&heap, &pos);
        }
        let mut last = None;
        while let Some(&top) = heap.first() {
            assert!(last.is_none_or(|l| l <= top));
            last = Some(top);
            remove(&mut heap, 0, &mut |i, p| {
                pos.insert(i, p);
            });
            check(&heap, &pos);
        }
        assert_eq!(remove(&mut heap, 0, &mut |_, _| {}), None);
    }
}
