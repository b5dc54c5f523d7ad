//! Streams by identifier, with the counts §5.1.2 needs and a bounded memory of closed streams.

use super::state::State;
use super::Stream;
use crate::frame::StreamId;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by stream identifier, hashed with [`IdHasher`].
pub(crate) type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// A cheap hasher for `u32` stream identifiers (FxHash-style multiply, then a rotation so the
/// well-mixed high bits of the product pick the bucket). Not keyed: a peer could aim ids at
/// one bucket, but ids only grow and the concurrency limit and the closed-stream bound cap how
/// many it has in a map, so collisions cost probing, not unbounded work.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// All streams we know: open ones, and recently closed ones (to answer late frames as §5.1
/// says). Older closed streams are forgotten; frames on them are treated as on a closed stream
/// of unknown history.
#[derive(Debug, Default)]
pub(crate) struct Store {
    streams: IdMap<Stream>,
    closed: VecDeque<u32>,
    /// Active (open or half-closed) streams we initiated, and that the peer initiated (§5.1.2).
    pub active_local: u32,
    pub active_remote: u32,
}

impl Store {
    pub fn get(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(&id.value())
    }

    pub fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        self.streams.get_mut(&id.value())
    }

    pub fn insert(&mut self, stream: Stream) {
        self.streams.insert(stream.id.value(), stream);
    }

    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Every stream we know, lowest identifier first: events reported for many streams at once
    /// (GOAWAY, connection errors) come in the same order on every run.
    pub fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        let mut ids: Vec<u32> = self.streams.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().map(StreamId::new)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Stream> {
        self.streams.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.streams.values_mut()
    }

    /// Moves `id` to `next`, keeping the active counts and the closed-stream memory right.
    /// `local` says whether we initiated the stream.
    pub fn set_state(&mut self, id: StreamId, next: State, local: bool, remember: usize) {
        let Some(stream) = self.streams.get_mut(&id.value()) else {
            return;
        };
        let was_active = stream.state.is_active();
        let was_closed = stream.state.is_closed();
        stream.state = next;
        let count = if local {
            &mut self.active_local
        } else {
            &mut self.active_remote
        };
        match (was_active, next.is_active()) {
            (false, true) => *count += 1,
            (true, false) => *count -= 1,
            _ => {}
        }
        if next.is_closed() && !was_closed {
            stream.send_buf.clear();
            stream.send_buffered = 0;
            stream.send_end = false;
            stream.send_trailers = None;
            stream.pending_open = None;
            self.closed.push_back(id.value());
            while self.closed.len() > remember {
                if let Some(old) = self.closed.pop_front() {
                    self.streams.remove(&old);
                }
            }
        }
    }
}
