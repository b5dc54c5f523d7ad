//! The indexing tables of RFC 7541 §2.3: the static table (Appendix A) and the dynamic table
//! (§2.3.2, managed as §4 says), with the index address space of §2.3.3.
//!
//! The decoder's table only needs lookups by index. The encoder's table also needs lookups by
//! name and by name+value without scanning: each entry is chained into two small hash-bucket
//! arrays, and since entries are evicted oldest first (§4.4) a chain simply ends at the first
//! evicted id, so eviction needs no bookkeeping.

use bytes::Bytes;
use std::collections::VecDeque;

/// §4.1: the size of an entry is the sum of its name's and value's lengths plus 32.
pub(crate) const ENTRY_OVERHEAD: usize = 32;

/// Appendix A: the static table; index `i` (1-based) is `STATIC[i - 1]`.
pub(crate) const STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// §2.3.3: the first index of the dynamic table.
pub(crate) const DYNAMIC_BASE: usize = STATIC.len() + 1;

/// Appendix A entry `index` (1..=61) as cheap static `Bytes`.
#[inline]
pub(crate) fn static_entry(index: usize) -> Option<(Bytes, Bytes)> {
    let &(name, value) = STATIC.get(index.wrapping_sub(1))?;
    Some((Bytes::from_static(name), Bytes::from_static(value)))
}

const HASH_K: u64 = 0x517c_c1b7_2722_0a95;

#[inline(always)]
const fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(HASH_K)
}

#[inline(always)]
const fn read8(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes([
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
    ])
}

#[inline(always)]
const fn read4(b: &[u8], i: usize) -> u64 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64
}

/// A fast, unkeyed hash (FxHash-style, a word at a time, with overlapping reads for the tail).
/// The encoder's table is small and holds only what our own side chose to index, so collisions
/// cost little and are not in a peer's hands.
#[inline]
pub(crate) fn hash(seed: u64, b: &[u8]) -> u64 {
    let len = b.len();
    let h = seed ^ (len as u64).wrapping_mul(HASH_K);
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
    let half = |c: &[u8]| u64::from(u32::from_le_bytes(c.try_into().unwrap_or([0; 4])));
    if len > 8 {
        let body = b[..len - 1].chunks_exact(8).fold(h, |h, c| mix(h, word(c)));
        mix(body, word(&b[len - 8..]))
    } else if len >= 4 {
        mix(h, half(&b[..4]) | half(&b[len - 4..]) << 32)
    } else if len > 0 {
        mix(
            h,
            u64::from(b[0]) | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1]) << 16,
        )
    } else {
        mix(h, 0)
    }
}

/// `a == b` for field names and values, without a call to `memcmp` for the short strings
/// most of them are: overlapping word loads up to 32 bytes, as the tables' hash reads its
/// input. The HPACK tables compare with it, and so may an adapter comparing fields with
/// cached ones.
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |c: &[u8], i: usize| u64::from_le_bytes(c[i..i + 8].try_into().unwrap_or([0; 8]));
    let half = |c: &[u8], i: usize| u32::from_le_bytes(c[i..i + 4].try_into().unwrap_or([0; 4]));
    let words = |i: usize| word(a, i) == word(b, i);
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => words(0) && words(n - 8),
        17..=32 => words(0) && words(8) && words(n - 16) && words(n - 8),
        _ => a == b,
    }
}

/// [`hash`] for compile time (the static name table), where slices cannot be converted to
/// arrays; the same function, byte by byte.
const fn const_hash(seed: u64, b: &[u8]) -> u64 {
    let len = b.len();
    let h = seed ^ (len as u64).wrapping_mul(HASH_K);
    if len > 8 {
        let mut h = h;
        let mut i = 0;
        while i + 8 < len {
            h = mix(h, read8(b, i));
            i += 8;
        }
        mix(h, read8(b, len - 8))
    } else if len >= 4 {
        mix(h, read4(b, 0) | read4(b, len - 4) << 32)
    } else if len > 0 {
        mix(
            h,
            b[0] as u64 | (b[len / 2] as u64) << 8 | (b[len - 1] as u64) << 16,
        )
    } else {
        mix(h, 0)
    }
}

/// How the encoder treats a field whose name is in the static table (nghttp2's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamePolicy {
    /// Add to the dynamic table when it fits comfortably.
    Index,
    /// Values rarely repeat: indexing would only evict useful entries.
    NoIndex,
    /// §7.1.3: credentials are sent as never-indexed literals.
    Never,
    /// §7.1.3: short cookies are guessable, so never indexed; long ones are indexed.
    Cookie,
}

/// A static-table name match: first index with this name, how many entries share it, policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StaticName {
    pub(crate) index: usize,
    pub(crate) count: usize,
    pub(crate) policy: NamePolicy,
}

const STATIC_SLOTS: usize = 128;

/// Spreads the 52 distinct static names over the [`STATIC_SLOTS`] slots of [`STATIC_NAMES`]
/// without a collision (found by search; [`build_static_names`] fails to compile otherwise),
/// so a lookup is one probe and one comparison, found or not.
const STATIC_SLOT_MUL: u64 = 0x9afb_ead8_9a2a_066d;

/// The slot of [`STATIC_NAMES`] for a name whose [`hash`] is `name_hash`.
#[inline(always)]
const fn static_slot(name_hash: u64) -> usize {
    (name_hash.wrapping_mul(STATIC_SLOT_MUL) >> (64 - STATIC_SLOTS.trailing_zeros())) as usize
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn policy_of(name: &[u8]) -> NamePolicy {
    const NO_INDEX: [&[u8]; 8] = [
        b":path",
        b"age",
        b"content-length",
        b"etag",
        b"if-modified-since",
        b"if-none-match",
        b"location",
        b"set-cookie",
    ];
    let mut i = 0;
    while i < NO_INDEX.len() {
        if bytes_eq(name, NO_INDEX[i]) {
            return NamePolicy::NoIndex;
        }
        i += 1;
    }
    if bytes_eq(name, b"authorization") || bytes_eq(name, b"proxy-authorization") {
        NamePolicy::Never
    } else if bytes_eq(name, b"cookie") {
        NamePolicy::Cookie
    } else {
        NamePolicy::Index
    }
}

/// Perfect hash table of the distinct static names: slot -> `index | count << 8 | policy << 16`
/// (0 = empty), keyed by [`static_slot`] of `hash(0, name)`.
static STATIC_NAMES: [u32; STATIC_SLOTS] = build_static_names();

const fn build_static_names() -> [u32; STATIC_SLOTS] {
    let mut slots = [0u32; STATIC_SLOTS];
    let mut i = 0;
    while i < STATIC.len() {
        let name = STATIC[i].0;
        let mut count = 1;
        while i + count < STATIC.len() && bytes_eq(STATIC[i + count].0, name) {
            count += 1;
        }
        let policy = policy_of(name) as u32;
        let slot = static_slot(const_hash(0, name));
        assert!(
            slots[slot] == 0,
            "two static names share a slot: change STATIC_SLOT_MUL"
        );
        slots[slot] = (i as u32 + 1) | (count as u32) << 8 | policy << 16;
        i += count;
    }
    slots
}

/// Finds `name` in the static table; `name_hash` is `hash(0, name)`.
#[inline]
pub(crate) fn static_name(name: &[u8], name_hash: u64) -> Option<StaticName> {
    let e = STATIC_NAMES[static_slot(name_hash)];
    // An empty slot reads as index 0, which `STATIC.get` turns into `None`.
    let index = (e & 0xff) as usize;
    let &(static_name, _) = STATIC.get(index.wrapping_sub(1))?;
    if !same_bytes(static_name, name) {
        return None;
    }
    let policy = match e >> 16 {
        0 => NamePolicy::Index,
        1 => NamePolicy::NoIndex,
        2 => NamePolicy::Never,
        _ => NamePolicy::Cookie,
    };
    Some(StaticName {
        index,
        count: ((e >> 8) & 0xff) as usize,
        policy,
    })
}

/// The decoder's dynamic table (§2.3.2, §4): newest entry first, so dynamic index
/// `DYNAMIC_BASE + i` is `entries[i]`. Each entry carries whether it passes the field byte rules
/// of RFC 9113 §8.2.1 ([`crate::field::field_ok`]), found once as it is added.
#[derive(Debug)]
pub(crate) struct DynamicTable {
    entries: VecDeque<(Bytes, Bytes, bool)>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    pub(crate) fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// §4.1 size of the table.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The current maximum size (the last size update, §4.2).
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// Entries, newest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.entries.iter().map(|(name, value, _)| (name, value))
    }

    /// The entry at §2.3.3 `index`, static or dynamic, and whether it passes RFC 9113 §8.2.1's
    /// byte rules (every static entry does); `None` if out of range (or 0).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<(Bytes, Bytes, bool)> {
        if index < DYNAMIC_BASE {
            static_entry(index).map(|(name, value)| (name, value, true))
        } else {
            self.entries.get(index - DYNAMIC_BASE).cloned()
        }
    }

    /// The name at §2.3.3 `index`, static or dynamic.
    #[inline]
    pub(crate) fn name(&self, index: usize) -> Option<Bytes> {
        if index < DYNAMIC_BASE {
            let &(name, _) = STATIC.get(index.wrapping_sub(1))?;
            Some(Bytes::from_static(name))
        } else {
            self.entries.get(index - DYNAMIC_BASE).map(|e| e.0.clone())
        }
    }

    /// §4.3: a size update evicts entries until the table fits.
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// §4.4: evict until the new entry fits, then add it; an entry larger than the whole table
    /// empties it and is not added (not an error).
    /// `field_ok` is [`crate::field::field_ok`] of the entry, which the caller computed.
    pub(crate) fn insert(&mut self, name: Bytes, value: Bytes, field_ok: bool) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        self.entries.push_front((name, value, field_ok));
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_back() {
                Some((n, v, _)) => self.size -= n.len() + v.len() + ENTRY_OVERHEAD,
                None => break,
            }
        }
    }
}

/// Buckets per chain array of the encoder table: a power of two, twice the number of entries
/// the encoder's table can hold (`4096 / 32`), so chains are short.
const BUCKETS: usize = 256;

/// An entry id + 1 (0 = none). 16 bits keep entries and the bucket arrays small enough to live
/// inline; ids restart from 0 (and the chains are rebuilt) every 65535 insertions.
type Link = u16;

/// One entry of the encoder's dynamic table: where its name and value are in
/// [`EncoderTable::bytes`], and its hash-chain links (ids + 1, 0 = none).
#[derive(Debug)]
struct EncoderEntry {
    /// Offset of the name in the table's byte stream (absolute, not relative to `base`).
    start: usize,
    name_len: u32,
    value_len: u32,
    name_hash: u64,
    field_hash: u64,
    prev_name: Link,
    prev_field: Link,
}

impl EncoderEntry {
    fn size(&self) -> usize {
        self.name_len as usize + self.value_len as usize + ENTRY_OVERHEAD
    }
}

/// The encoder's dynamic table: the same §4 accounting as [`DynamicTable`], plus lookups by
/// name and by name+value through hash chains.
///
/// Entry ids grow by one per insertion; the entry with id `id` is at `entries[id - first_id]`
/// (oldest at the front) and has §2.3.3 index `DYNAMIC_BASE + (next_id - 1 - id)`. Names and
/// values are copied into one byte buffer (oldest first, compacted now and then), so indexing a
/// field costs a `memcpy`, not an allocation or a reference count.
pub(crate) struct EncoderTable {
    entries: VecDeque<EncoderEntry>,
    bytes: Vec<u8>,
    /// The absolute offset of `bytes[0]`.
    base: usize,
    first_id: Link,
    next_id: Link,
    size: usize,
    max_size: usize,
    /// Newest link per bucket: `BUCKETS` by name, then `BUCKETS` by name+value.
    buckets: [Link; 2 * BUCKETS],
}

impl std::fmt::Debug for EncoderTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncoderTable")
            .field("len", &self.entries.len())
            .field("size", &self.size)
            .field("max_size", &self.max_size)
            .finish()
    }
}

#[inline]
fn bucket(h: u64) -> usize {
    // The multiplicative hash mixes into the high bits.
    (h >> (64 - BUCKETS.trailing_zeros())) as usize
}

impl EncoderTable {
    pub(crate) fn new(max_size: usize) -> EncoderTable {
        EncoderTable {
            entries: VecDeque::new(),
            bytes: Vec::new(),
            base: 0,
            first_id: 0,
            next_id: 0,
            size: 0,
            max_size,
            buckets: [0; 2 * BUCKETS],
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    #[inline]
    fn name_of(&self, e: &EncoderEntry) -> &[u8] {
        let at = e.start - self.base;
        &self.bytes[at..at + e.name_len as usize]
    }

    #[inline]
    fn value_of(&self, e: &EncoderEntry) -> &[u8] {
        let at = e.start - self.base + e.name_len as usize;
        &self.bytes[at..at + e.value_len as usize]
    }

    /// Entries, newest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .rev()
            .map(|e| (self.name_of(e), self.value_of(e)))
    }

    #[inline]
    fn index_of(&self, id: Link) -> usize {
        DYNAMIC_BASE + (self.next_id - 1 - id) as usize
    }

    /// The §2.3.3 index of the newest entry equal to `name: value`.
    #[inline]
    pub(crate) fn find_field(&self, name: &[u8], value: &[u8], field_hash: u64) -> Option<usize> {
        let mut link = self.buckets[BUCKETS + bucket(field_hash)];
        // A link is `id + 1`; ids below `first_id` were evicted, and chains only go back in time.
        while link > self.first_id {
            let id = link - 1;
            let e = &self.entries[(id - self.first_id) as usize];
            if e.field_hash == field_hash
                && same_bytes(self.name_of(e), name)
                && same_bytes(self.value_of(e), value)
            {
                return Some(self.index_of(id));
            }
            link = e.prev_field;
        }
        None
    }

    /// The §2.3.3 index of the newest entry named `name`.
    #[inline]
    pub(crate) fn find_name(&self, name: &[u8], name_hash: u64) -> Option<usize> {
        let mut link = self.buckets[bucket(name_hash)];
        while link > self.first_id {
            let id = link - 1;
            let e = &self.entries[(id - self.first_id) as usize];
            if e.name_hash == name_hash && same_bytes(self.name_of(e), name) {
                return Some(self.index_of(id));
            }
            link = e.prev_name;
        }
        None
    }

    /// §4.3: evict entries until the table fits `max_size`.
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// §4.4: evict until the entry fits, then add it (an entry larger than the table empties it).
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8], name_hash: u64, field_hash: u64) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max_size - size);
        self.size += size;
        // Live bytes never exceed `max_size`; drop the dead prefix once it is as large.
        let live_from = self
            .entries
            .front()
            .map_or(self.base + self.bytes.len(), |e| e.start);
        if live_from - self.base >= self.max_size.max(256) {
            self.bytes.drain(..live_from - self.base);
            self.base = live_from;
        }
        let start = self.base + self.bytes.len();
        self.bytes.extend_from_slice(name);
        self.bytes.extend_from_slice(value);
        if self.entries.capacity() == 0 {
            // Skip the smallest growth steps; (small enough not to make malloc consolidate).
            self.entries.reserve(16);
            self.bytes.reserve(512);
        }
        if self.next_id == Link::MAX {
            self.renumber();
        }
        self.entries.push_back(EncoderEntry {
            start,
            name_len: name.len() as u32,
            value_len: value.len() as u32,
            name_hash,
            field_hash,
            prev_name: 0,
            prev_field: 0,
        });
        self.next_id += 1;
        self.link_newest();
    }

    /// Chains the newest entry (id `next_id - 1`) into its two buckets.
    fn link_newest(&mut self) {
        let id = self.next_id - 1;
        let Some(e) = self.entries.back_mut() else {
            return;
        };
        let nb = bucket(e.name_hash);
        let fb = BUCKETS + bucket(e.field_hash);
        e.prev_name = self.buckets[nb];
        e.prev_field = self.buckets[fb];
        self.buckets[nb] = id + 1;
        self.buckets[fb] = id + 1;
    }

    /// Ids restart from 0 when [`Link`] runs out, and the chains are rebuilt.
    #[cold]
    fn renumber(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = 0);
        self.first_id = 0;
        self.next_id = 0;
        for i in 0..self.entries.len() {
            self.next_id += 1;
            let nb = bucket(self.entries[i].name_hash);
            let fb = BUCKETS + bucket(self.entries[i].field_hash);
            self.entries[i].prev_name = self.buckets[nb];
            self.entries[i].prev_field = self.buckets[fb];
            self.buckets[nb] = i as Link + 1;
            self.buckets[fb] = i as Link + 1;
        }
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_front() {
                Some(e) => {
                    self.size -= e.size();
                    self.first_id += 1;
                }
                None => break,
            }
        }
        if self.entries.is_empty() {
            self.base += self.bytes.len();
            self.bytes.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_field_passes_the_field_byte_rules() {
        // `DynamicTable::get` vouches for static fields without checking them.
        for index in 1..DYNAMIC_BASE {
            let (name, value) = static_entry(index).expect("static entry");
            assert!(
                crate::field::field_ok(&name, &value),
                "static index {index}"
            );
        }
    }

    #[test]
    fn every_static_name_is_found_at_its_first_index() {
        for (i, &(name, _)) in STATIC.iter().enumerate() {
            let found = static_name(name, hash(0, name)).unwrap();
            assert_eq!(STATIC[found.index - 1].0, name);
            assert!(found.index <= i + 1 && i + 1 < found.index + found.count);
        }
        assert!(static_name(b"x-custom", hash(0, b"x-custom")).is_none());
        assert_eq!(
            static_name(b":status", hash(0, b":status")).unwrap().count,
            7
        );
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let a: Vec<u8> = (0..48u8).collect();
        for len in 0..a.len() {
            let x = &a[..len];
            assert!(same_bytes(x, x));
            assert!(!same_bytes(x, &a[..len + 1]));
            for at in 0..len {
                let mut y = x.to_vec();
                y[at] ^= 0x20;
                assert!(!same_bytes(x, &y), "len {len}, differing at {at}");
            }
        }
    }

    #[test]
    fn names_outside_the_static_table_are_not_found() {
        // Misses must not be fooled by a slot another name occupies: try many names.
        for i in 0..2000u32 {
            let name = format!("x-{i}");
            assert!(static_name(name.as_bytes(), hash(0, name.as_bytes())).is_none());
        }
        for (name, _) in STATIC {
            let mut other = name.to_vec();
            other.push(b'x');
            assert!(static_name(&other, hash(0, &other)).is_none());
            assert!(static_name(&name[1..], hash(0, &name[1..])).is_none());
        }
    }

    #[test]
    fn ids_wrap_by_renumbering() {
        let mut t = EncoderTable::new(4 * 34);
        t.first_id = Link::MAX - 2;
        t.next_id = Link::MAX - 2;
        for (n, v) in [
            (b"a", b"1"),
            (b"b", b"2"),
            (b"c", b"3"),
            (b"a", b"4"),
            (b"e", b"5"),
        ] {
            let hn = hash(0, n);
            t.insert(n, v, hn, hash(hn, v));
        }
        assert!(t.next_id < 10);
        let field = |t: &EncoderTable, n: &[u8], v: &[u8]| {
            let hn = hash(0, n);
            t.find_field(n, v, hash(hn, v))
        };
        assert_eq!(field(&t, b"e", b"5"), Some(62));
        assert_eq!(field(&t, b"a", b"4"), Some(63));
        assert_eq!(field(&t, b"b", b"2"), Some(65));
        assert_eq!(field(&t, b"a", b"1"), None);
        assert_eq!(t.find_name(b"a", hash(0, b"a")), Some(63));
    }

    #[test]
    fn const_hash_is_hash() {
        let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        for len in 0..data.len() {
            for seed in [0, 1, u64::MAX] {
                assert_eq!(hash(seed, &data[..len]), const_hash(seed, &data[..len]));
            }
        }
    }

    #[test]
    fn static_policies_follow_nghttp2() {
        let p = |n: &[u8]| static_name(n, hash(0, n)).unwrap().policy;
        assert_eq!(p(b":path"), NamePolicy::NoIndex);
        assert_eq!(p(b"set-cookie"), NamePolicy::NoIndex);
        assert_eq!(p(b"authorization"), NamePolicy::Never);
        assert_eq!(p(b"proxy-authorization"), NamePolicy::Never);
        assert_eq!(p(b"cookie"), NamePolicy::Cookie);
        assert_eq!(p(b"user-agent"), NamePolicy::Index);
    }

    #[test]
    fn decoder_table_evicts_oldest_first() {
        let mut t = DynamicTable::new(100);
        t.insert(Bytes::from_static(b"a"), Bytes::from_static(b"1"), true); // 34
        t.insert(Bytes::from_static(b"b"), Bytes::from_static(b"2"), true); // 68
        t.insert(Bytes::from_static(b"c"), Bytes::from_static(b"3"), true); // 102 > 100: evict a
        assert_eq!(t.size(), 68);
        assert_eq!(t.get(62).unwrap().0, "c");
        assert_eq!(t.get(63).unwrap().0, "b");
        assert!(t.get(64).is_none());
        t.insert(Bytes::from(vec![b'x'; 100]), Bytes::new(), true);
        assert_eq!(t.size(), 0);
        assert!(t.get(62).is_none());
        assert!(t.get(0).is_none());
    }

    #[test]
    fn encoder_table_lookups_survive_eviction() {
        let mut t = EncoderTable::new(3 * 34);
        let ins = |t: &mut EncoderTable, n: &'static [u8], v: &'static [u8]| {
            let hn = hash(0, n);
            t.insert(n, v, hn, hash(hn, v))
        };
        let field = |t: &EncoderTable, n: &[u8], v: &[u8]| {
            let hn = hash(0, n);
            t.find_field(n, v, hash(hn, v))
        };
        ins(&mut t, b"a", b"1");
        ins(&mut t, b"b", b"2");
        ins(&mut t, b"a", b"3");
        assert_eq!(field(&t, b"a", b"1"), Some(64));
        assert_eq!(field(&t, b"a", b"3"), Some(62));
        assert_eq!(t.find_name(b"a", hash(0, b"a")), Some(62));
        ins(&mut t, b"c", b"4");
        assert_eq!(field(&t, b"a", b"1"), None);
        assert_eq!(field(&t, b"b", b"2"), Some(64));
        t.set_max_size(34);
        assert_eq!(field(&t, b"b", b"2"), None);
        assert_eq!(t.find_name(b"a", hash(0, b"a")), None);
        assert_eq!(field(&t, b"c", b"4"), Some(62));
    }
}
