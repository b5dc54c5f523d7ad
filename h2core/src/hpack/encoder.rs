//! The HPACK encoder: chooses a §6 representation for each field, maintains the dynamic table
//! (§4) and signals its size changes (§4.2, §6.3).
//!
//! Policy (nghttp2's, which the hpack-test-case corpus measures): exact matches in either
//! table are sent indexed (§6.1); fields whose values rarely repeat (`:path`, `age`,
//! `content-length`, `etag`, `if-modified-since`, `if-none-match`, `location`, `set-cookie`) and
//! fields larger than 3/4 of the table are sent without indexing (§6.2.2); everything else is
//! added to the table (§6.2.1). Credentials, short cookies and fields the caller marks sensitive
//! are sent never-indexed (§6.2.3, §7.1.3). Strings are Huffman-coded only when that is shorter.

use super::primitives::{encode_integer, encode_string, HuffmanMode};
use super::table::{
    hash, same_bytes, static_name, EncoderTable, NamePolicy, ENTRY_OVERHEAD, STATIC,
};
use super::Header;
use bytes::{BufMut, Bytes, BytesMut};

/// The largest dynamic table the encoder uses, whatever the peer allows (§4.2 lets the encoder
/// use less). Bounds the memory a peer can make us spend on compression state.
const ENCODER_MAX_TABLE_SIZE: usize = 4096;

/// Cookies shorter than this are never indexed (§7.1.3: short values are guessable).
const COOKIE_NEVER_INDEX_BELOW: usize = 20;

/// Appendix A: the static entry named `content-length` (with an empty value).
const CONTENT_LENGTH_INDEX: usize = 28;

/// The static table index (Appendix A, 8..=14) of a `:status` value, if it has one.
#[inline]
fn static_status_index(value: &[u8]) -> Option<u8> {
    let &[a, b, c] = value else {
        return None;
    };
    Some(match [a, b, c] {
        [b'2', b'0', b'0'] => 8,
        [b'2', b'0', b'4'] => 9,
        [b'2', b'0', b'6'] => 10,
        [b'3', b'0', b'4'] => 11,
        [b'4', b'0', b'0'] => 12,
        [b'4', b'0', b'4'] => 13,
        [b'5', b'0', b'0'] => 14,
        _ => return None,
    })
}

/// Encodes header lists into header blocks (RFC 7541 §3.2), keeping a dynamic table that mirrors
/// the peer's decoder. One per connection; blocks must be sent in the order they are encoded.
#[derive(Debug)]
pub struct Encoder {
    table: EncoderTable,
    /// §4.2: the smallest maximum size allowed since the last block, if the setting changed.
    pending_min: Option<usize>,
    /// The maximum size to use from the next block on.
    next_max: usize,
    huffman: HuffmanMode,
    index_all: bool,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// An encoder for a peer with the default SETTINGS_HEADER_TABLE_SIZE of 4096 (RFC 9113
    /// §6.5.2; RFC 7541 §4.2).
    pub fn new() -> Encoder {
        Encoder {
            table: EncoderTable::new(ENCODER_MAX_TABLE_SIZE),
            pending_min: None,
            next_max: ENCODER_MAX_TABLE_SIZE,
            huffman: HuffmanMode::Shorter,
            index_all: false,
        }
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed (RFC 7541 §4.2). The next block starts with
    /// the dynamic table size updates (§6.3) the peer needs: the smallest size reached since the
    /// last block, then the final size if different. The encoder uses at most 4096 octets.
    pub fn set_max_table_size(&mut self, size: usize) {
        let size = size.min(ENCODER_MAX_TABLE_SIZE);
        let min = self.pending_min.map_or(size, |m| m.min(size));
        self.pending_min = Some(min);
        self.next_max = size;
    }

    /// Test hook: force Huffman coding of every string literal on (`Some(true)`, as in RFC 7541
    /// Appendix C.4/C.6) or off (`Some(false)`, C.3/C.5); `None` restores "only if shorter".
    #[doc(hidden)]
    pub fn set_huffman(&mut self, huffman: Option<bool>) {
        self.huffman = match huffman {
            None => HuffmanMode::Shorter,
            Some(true) => HuffmanMode::Always,
            Some(false) => HuffmanMode::Never,
        };
    }

    /// Test hook: add every field that is not an exact match to the dynamic table (§6.2.1), as
    /// the RFC 7541 Appendix C examples do. Sensitive fields are still never indexed.
    #[doc(hidden)]
    pub fn set_index_all(&mut self, index_all: bool) {
        self.index_all = index_all;
    }

    /// Test hook: the dynamic table, newest (index 62) first, and its §4.1 size.
    #[doc(hidden)]
    pub fn dynamic_table(&self) -> (Vec<(Bytes, Bytes)>, usize) {
        let entries = self
            .table
            .entries()
            .map(|(n, v)| (Bytes::copy_from_slice(n), Bytes::copy_from_slice(v)))
            .collect();
        (entries, self.table.size())
    }

    /// Appends the header block (RFC 7541 §3.2) for `headers` to `dst`, in order.
    ///
    /// The block must reach the peer, complete and in order with the other blocks of this
    /// encoder: its dynamic table changes as ours did. Fields with `sensitive` set are sent as
    /// never-indexed literals (§6.2.3), and neither they nor their values enter the table.
    pub fn encode<'a>(
        &mut self,
        headers: impl IntoIterator<Item = &'a Header>,
        dst: &mut BytesMut,
    ) {
        if let Some(min) = self.pending_min.take() {
            // §4.2: signal the smallest size since the last block (so the peer evicts what we
            // evicted), then the final size.
            if min < self.next_max || min != self.table.max_size() {
                self.resize(min, dst);
            }
            if self.next_max != min {
                self.resize(self.next_max, dst);
            }
        }
        for h in headers {
            self.encode_field(h, dst);
        }
    }

    fn resize(&mut self, size: usize, dst: &mut BytesMut) {
        self.table.set_max_size(size);
        encode_integer(dst, 0x20, 5, size);
    }

    #[inline]
    fn encode_field(&mut self, h: &Header, dst: &mut BytesMut) {
        let name: &[u8] = &h.name;
        let value: &[u8] = &h.value;
        // The two fields nearly every response carries, found without hashing or probing: a
        // `:status` of the static table (entries 8..=14, §6.1), and `content-length`, which
        // the policy sends without indexing (§6.2.2) under its static name. (An empty
        // content-length is an exact static match, left to the general path.)
        if !h.sensitive {
            if name.len() == 7 && name == b":status" {
                if let Some(index) = static_status_index(value) {
                    return dst.put_u8(0x80 | index);
                }
            } else if name.len() == 14
                && name == b"content-length"
                && !value.is_empty()
                && !self.index_all
            {
                return self.literal(dst, 0x00, 4, Some(CONTENT_LENGTH_INDEX), name, value);
            }
        }
        let name_hash = hash(0, name);
        let st = static_name(name, name_hash);
        let policy = st.map_or(NamePolicy::Index, |s| s.policy);
        let never = h.sensitive
            || match policy {
                NamePolicy::Never => true,
                NamePolicy::Cookie => value.len() < COOKIE_NEVER_INDEX_BELOW,
                _ => false,
            };
        if never {
            // §6.2.3: no reference to a table entry for the value, so the sensitive flag
            // reaches the peer; naming by index reveals nothing.
            let name_index = match st {
                Some(s) => Some(s.index),
                None => self.table.find_name(name, name_hash),
            };
            return self.literal(dst, 0x10, 4, name_index, name, value);
        }
        if let Some(s) = st {
            // Only a handful of static entries carry a value, all next to their name.
            for i in s.index..s.index + s.count {
                if same_bytes(STATIC[i - 1].1, value) {
                    return encode_integer(dst, 0x80, 7, i);
                }
            }
        }
        let indexable = self.index_all || policy != NamePolicy::NoIndex;
        let mut field_hash = 0;
        if indexable {
            // Fields of a never-indexed policy are never in the table: skip hashing the value.
            field_hash = hash(name_hash, value);
            if let Some(i) = self.table.find_field(name, value, field_hash) {
                return encode_integer(dst, 0x80, 7, i);
            }
        }
        // A static name index is never larger than a dynamic one, so it is preferred.
        let name_index = match st {
            Some(s) => Some(s.index),
            None => self.table.find_name(name, name_hash),
        };
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if indexable && (self.index_all || size <= self.table.max_size() * 3 / 4) {
            self.literal(dst, 0x40, 6, name_index, name, value);
            self.table.insert(name, value, name_hash, field_hash);
        } else {
            self.literal(dst, 0x00, 4, name_index, name, value);
        }
    }

    /// §6.2: a literal field with the representation bits `flags` and an `n`-bit index prefix.
    #[inline]
    fn literal(
        &self,
        dst: &mut BytesMut,
        flags: u8,
        n: u8,
        name_index: Option<usize>,
        name: &[u8],
        value: &[u8],
    ) {
        match name_index {
            Some(i) => encode_integer(dst, flags, n, i),
            None => {
                encode_integer(dst, flags, n, 0);
                encode_string(dst, name, self.huffman);
            }
        }
        encode_string(dst, value, self.huffman);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::Decoder;

    fn encode(e: &mut Encoder, fields: &[Header]) -> Vec<u8> {
        let mut dst = BytesMut::new();
        e.encode(fields, &mut dst);
        dst.to_vec()
    }

    #[test]
    fn every_static_status_is_one_indexed_octet() {
        // Appendix A: :status 200, 204, 206, 304, 400, 404, 500 are entries 8..=14 (§6.1).
        for (i, status) in ["200", "204", "206", "304", "400", "404", "500"]
            .iter()
            .enumerate()
        {
            let block = encode(&mut Encoder::new(), &[Header::new(":status", *status)]);
            assert_eq!(block, [0x80 | (8 + i as u8)], ":status {status}");
        }
    }

    #[test]
    fn other_statuses_are_literals_with_the_static_name_and_then_indexed() {
        let mut e = Encoder::new();
        // §6.2.1 with the name index 8 (":status").
        let first = encode(&mut e, &[Header::new(":status", "201")]);
        assert_eq!(first[0], 0x48);
        // The field entered the dynamic table: the second time it is index 62.
        assert_eq!(encode(&mut e, &[Header::new(":status", "201")]), [0xbe]);
        let mut d = Decoder::new(4096);
        let mut got = Vec::new();
        d.decode(&Bytes::from(first), |h| got.push(h)).unwrap();
        assert_eq!(got, [Header::new(":status", "201")]);
    }

    #[test]
    fn a_sensitive_status_is_never_indexed_even_when_static() {
        let block = encode(&mut Encoder::new(), &[Header::sensitive(":status", "200")]);
        // §6.2.3: the 0001 prefix with the static name index 8, then the value.
        assert_eq!(block[0], 0x18);
        let mut got = Vec::new();
        Decoder::new(4096)
            .decode(&Bytes::from(block), |h| got.push(h))
            .unwrap();
        assert_eq!(got, [Header::sensitive(":status", "200")]);
    }

    #[test]
    fn one_and_two_octet_values_are_sent_raw() {
        // §5.2: Huffman only when strictly shorter, and the shortest code is 5 bits.
        for b in 0..=255u8 {
            assert!(crate::hpack::huffman::encoded_len(&[b]) >= 1);
            for c in [b'0', b'a', b'e', 0xff] {
                assert!(crate::hpack::huffman::encoded_len(&[b, c]) >= 2);
            }
        }
        // content-length (static name 28, never indexed by policy): 0000 1111 + 13, then "6".
        let block = encode(&mut Encoder::new(), &[Header::new("content-length", "6")]);
        assert_eq!(block, [0x0f, 0x0d, 0x01, b'6']);
    }

    #[test]
    fn content_length_takes_the_static_name_and_is_never_indexed() {
        assert_eq!(
            STATIC[CONTENT_LENGTH_INDEX - 1],
            (&b"content-length"[..], &b""[..])
        );
        let mut e = Encoder::new();
        for _ in 0..2 {
            // 0000 1111 + 13 (§6.2.2, name index 28), then "12345" Huffman-coded (4 octets).
            let block = encode(&mut e, &[Header::new("content-length", "12345")]);
            assert_eq!(&block[..3], [0x0f, 0x0d, 0x84]);
            assert_eq!(block.len(), 7);
        }
        assert_eq!(e.dynamic_table().1, 0);
        // Empty, it is the static entry itself (§6.1); sensitive, never indexed (§6.2.3).
        assert_eq!(encode(&mut e, &[Header::new("content-length", "")]), [0x9c]);
        let block = encode(&mut e, &[Header::sensitive("content-length", "6")]);
        assert_eq!(block, [0x1f, 0x0d, 0x01, b'6']);
        // The test hook that indexes everything still does.
        e.set_index_all(true);
        let block = encode(&mut e, &[Header::new("content-length", "6")]);
        assert_eq!(block, [0x5c, 0x01, b'6']);
        assert_eq!(e.dynamic_table().1, 14 + 1 + 32);
    }
}
