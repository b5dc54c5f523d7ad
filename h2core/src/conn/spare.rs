//! Header lists the application handed back (`Connection::recycle_fields`) or a command left
//! once its block was encoded (`send_response`), reused for the next header blocks, received
//! or sent (`Connection::spare_fields`): an allocation and a free saved per block, within a
//! memory budget.

use crate::hpack::Header;

/// The most fields the kept lists have room for, all together: about 25 lists of a typical
/// request's size, one per request of a batch (h2load -m 16, a browser opening tens of
/// streams at once), and at most 18 KiB (72-byte fields) a connection keeps after a burst,
/// however large its requests were.
pub(crate) const SPARE_FIELDS_BUDGET: usize = 256;

/// Empty header lists kept for reuse. A batch of requests is decoded before the first list
/// comes back, so one spare would not do.
#[derive(Debug, Default)]
pub(crate) struct SpareFields {
    lists: Vec<Vec<Header>>,
    /// The capacity of `lists`, summed (at most [`SPARE_FIELDS_BUDGET`]).
    capacity: usize,
}

impl SpareFields {
    /// Keeps `fields`, emptied, if the budget has room for it.
    pub(crate) fn put(&mut self, mut fields: Vec<Header>) {
        let capacity = fields.capacity();
        if capacity > 0 && self.capacity + capacity <= SPARE_FIELDS_BUDGET {
            fields.clear();
            self.capacity += capacity;
            self.lists.push(fields);
        }
    }

    /// An empty list with room for at least `hint` fields: a kept one if there is one.
    pub(crate) fn take(&mut self, hint: usize) -> Vec<Header> {
        match self.lists.pop() {
            Some(mut list) => {
                self.capacity -= list.capacity();
                list.reserve(hint);
                list
            }
            None => Vec::with_capacity(hint),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_lists_stay_within_their_budget_and_are_reused() {
        let mut spare = SpareFields::default();
        for _ in 0..100 {
            spare.put(Vec::with_capacity(10));
        }
        assert_eq!(spare.lists.len(), SPARE_FIELDS_BUDGET / 10);
        let kept: usize = spare.lists.iter().map(Vec::capacity).sum();
        assert_eq!(kept, spare.capacity);
        assert!(spare.capacity <= SPARE_FIELDS_BUDGET);
        let list = spare.take(4);
        assert!(list.is_empty() && list.capacity() == 10);
        assert_eq!(spare.capacity, kept - 10);
        // One huge list is never kept, whatever room is left.
        let mut fresh = SpareFields::default();
        fresh.put(Vec::with_capacity(SPARE_FIELDS_BUDGET + 1));
        assert!(fresh.lists.is_empty());
        assert_eq!(fresh.take(7).capacity(), 7);
    }
}
