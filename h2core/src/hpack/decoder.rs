//! The HPACK decoder: header block processing of RFC 7541 §3.2 and the field representations
//! of §6, with the dynamic table size rules of §4.2 and §6.3.

use super::huffman;
use super::primitives::{decode_integer, IntegerError};
use super::table::{DynamicTable, ENTRY_OVERHEAD};
use super::Header;
use crate::field;
use crate::frame::Reason;
use bytes::{Bytes, BytesMut};
use std::fmt;

/// Blocks up to this size may be shared by dynamic-table entries (zero-copy); literals of
/// larger blocks are copied before being indexed, so a table of `max_size / 32` entries pins
/// at most that many such blocks.
const SHARE_BLOCK_LIMIT: usize = 4096;

/// Smallest chunk the decoder allocates for Huffman-decoded strings; strings of one block are
/// slices of a shared chunk rather than one allocation each.
const ARENA_CHUNK: usize = 4096;

/// Spare arena capacity kept between blocks.
const ARENA_KEEP_MAX: usize = 64 * 1024;

/// A header block the decoder could not process (RFC 7541 §2.3.3, §4.2, §5, §6).
///
/// Every variant but [`HeaderListTooLarge`](DecoderError::HeaderListTooLarge) leaves the
/// dynamic table out of sync with the peer's, which RFC 9113 §4.3 makes a connection error of
/// type COMPRESSION_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoderError {
    /// §5.1: an integer larger than 2^32-1, or using more than 5 continuation octets.
    IntegerOverflow,
    /// §5.1: the block ended inside an integer.
    IntegerTruncated,
    /// §5.2: a string literal is longer than what is left of the block.
    StringTruncated,
    /// §5.2: Huffman padding longer than 7 bits or not all ones, or an encoded EOS.
    InvalidHuffman,
    /// §2.3.3: index 0, or an index beyond the static and dynamic tables.
    InvalidIndex,
    /// §4.2: a dynamic table size update after the first field representation of a block.
    TableSizeUpdateNotAtStart,
    /// §6.3: a dynamic table size update above the limit we advertised.
    TableSizeUpdateTooLarge,
    /// §4.2: our limit fell below the table's size, and the first block since did not start
    /// with the size update that must acknowledge it.
    TableSizeUpdateMissing,
    /// RFC 9113 §6.5.2: the decoded header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE. The whole
    /// block was still decoded, so the dynamic table is in sync and the connection can go on;
    /// only this stream is refused (a server may answer 431, RFC 9113 §10.5.1).
    HeaderListTooLarge,
}

impl DecoderError {
    /// The RFC 9113 error code: COMPRESSION_ERROR (a connection error, RFC 9113 §4.3) for
    /// everything but [`HeaderListTooLarge`](DecoderError::HeaderListTooLarge), which is a
    /// stream error (PROTOCOL_ERROR).
    pub fn reason(&self) -> Reason {
        match self {
            DecoderError::HeaderListTooLarge => Reason::PROTOCOL_ERROR,
            _ => Reason::COMPRESSION_ERROR,
        }
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecoderError::IntegerOverflow => "hpack: integer overflow",
            DecoderError::IntegerTruncated => "hpack: truncated integer",
            DecoderError::StringTruncated => "hpack: truncated string literal",
            DecoderError::InvalidHuffman => "hpack: invalid huffman code",
            DecoderError::InvalidIndex => "hpack: invalid table index",
            DecoderError::TableSizeUpdateNotAtStart => {
                "hpack: table size update not at block start"
            }
            DecoderError::TableSizeUpdateTooLarge => "hpack: table size update above the limit",
            DecoderError::TableSizeUpdateMissing => "hpack: required table size update missing",
            DecoderError::HeaderListTooLarge => "hpack: header list too large",
        })
    }
}

impl std::error::Error for DecoderError {}

impl From<IntegerError> for DecoderError {
    fn from(e: IntegerError) -> Self {
        match e {
            IntegerError::Overflow => DecoderError::IntegerOverflow,
            IntegerError::Truncated => DecoderError::IntegerTruncated,
        }
    }
}

/// Decodes header blocks (RFC 7541 §3.2) and keeps the dynamic table in step with the peer's
/// encoder. One per connection; blocks must be fed in the order they arrive.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// §4.2: the SETTINGS_HEADER_TABLE_SIZE we advertised (and the peer acknowledged).
    max_size_limit: usize,
    /// §4.2: the limit fell below the table's maximum; the next block must start with an update.
    size_update_required: bool,
    max_header_list_size: usize,
    /// Where Huffman-decoded strings (and copied literals) are written before being split off.
    arena: BytesMut,
}

/// A decoded string and whether it is a slice of the block (rather than owned memory).
struct Str {
    bytes: Bytes,
    in_block: bool,
}

impl Decoder {
    /// A decoder whose dynamic table may grow to `max_table_size` octets: the
    /// SETTINGS_HEADER_TABLE_SIZE we advertise (RFC 7541 §4.2; the protocol default is 4096).
    pub fn new(max_table_size: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_size_limit: max_table_size,
            size_update_required: false,
            max_header_list_size: usize::MAX,
            arena: BytesMut::new(),
        }
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE changed and was acknowledged: the new limit for size
    /// updates (RFC 7541 §4.2, §6.3). If it is below the table's current maximum, the peer's next
    /// block must begin with a size update (§4.2), or decoding fails with
    /// [`DecoderError::TableSizeUpdateMissing`].
    pub fn set_max_table_size(&mut self, size: usize) {
        self.max_size_limit = size;
        if size < self.table.max_size() {
            self.size_update_required = true;
        }
    }

    /// The SETTINGS_MAX_HEADER_LIST_SIZE we advertise (RFC 9113 §6.5.2; default unlimited):
    /// blocks whose header list (the sum of name + value + 32 over its fields) exceeds it fail
    /// with [`DecoderError::HeaderListTooLarge`] after being decoded in full.
    pub fn set_max_header_list_size(&mut self, size: usize) {
        self.max_header_list_size = size;
    }

    /// Decodes one complete header block (RFC 7541 §3.2), calling `f` with each field in order.
    ///
    /// Literal values are slices of `block`; indexed fields share the table's memory. A field
    /// sent never-indexed (§6.2.3) has `sensitive` set, so a proxy can forward it the same way.
    ///
    /// If the header list exceeds the limit set by [`set_max_header_list_size`], `f` is not
    /// called for the field that crosses it nor any after, but the block is still decoded to its
    /// end so the dynamic table stays in sync; then [`DecoderError::HeaderListTooLarge`] is
    /// returned. Any other error means the table can no longer be trusted (COMPRESSION_ERROR).
    ///
    /// [`set_max_header_list_size`]: Decoder::set_max_header_list_size
    pub fn decode(&mut self, block: &Bytes, mut f: impl FnMut(Header)) -> Result<(), DecoderError> {
        self.decode_fields(block, |header, _| f(header))
    }

    /// [`Decoder::decode`], also telling `f` whether the field is known to pass the byte rules
    /// of RFC 9113 §8.2.1 ([`crate::field::field_ok`]): true for a field of the static table,
    /// and for one of the dynamic table that passed them when it was added (checked once
    /// then, as the literal arrived). A literal not indexed is reported false, unchecked.
    pub(crate) fn decode_fields(
        &mut self,
        block: &Bytes,
        mut f: impl FnMut(Header, bool),
    ) -> Result<(), DecoderError> {
        let src: &[u8] = block;
        let mut pos = 0;
        // §4.2: after our limit dropped, the first block must begin with a size update.
        if self.size_update_required && !matches!(src.first(), Some(&b) if b & 0xe0 == 0x20) {
            return Err(DecoderError::TableSizeUpdateMissing);
        }
        let mut at_start = true;
        let mut list_size = 0usize;
        let limit = self.max_header_list_size;
        let mut emit = |name: Bytes, value: Bytes, sensitive: bool, field_ok: bool| {
            list_size = list_size.saturating_add(name.len() + value.len() + ENTRY_OVERHEAD);
            if list_size <= limit {
                let header = Header {
                    name,
                    value,
                    sensitive,
                };
                f(header, field_ok);
            }
        };
        while let Some(&b) = src.get(pos) {
            // One call of `emit` for every representation, so the caller's closure is inlined.
            let (name, value, sensitive, field_ok) = if b & 0x80 != 0 {
                // §6.1 indexed header field.
                let index = decode_integer(src, &mut pos, 7)?;
                let (name, value, field_ok) =
                    self.table.get(index).ok_or(DecoderError::InvalidIndex)?;
                (name, value, false, field_ok)
            } else if b & 0x40 != 0 {
                // §6.2.1 literal with incremental indexing.
                let index = decode_integer(src, &mut pos, 6)?;
                let name = self.name(block, &mut pos, index)?;
                let value = self.string(block, &mut pos)?;
                let table_name = self.owned_if_large(block, &name);
                let table_value = self.owned_if_large(block, &value);
                let field_ok = field::field_ok(&name.bytes, &value.bytes);
                self.table.insert(table_name, table_value, field_ok);
                (name.bytes, value.bytes, false, field_ok)
            } else if b & 0x20 != 0 {
                // §6.3 dynamic table size update.
                if !at_start {
                    // §4.2: it MUST occur at the beginning of the first block after the change.
                    return Err(DecoderError::TableSizeUpdateNotAtStart);
                }
                let size = decode_integer(src, &mut pos, 5)?;
                if size > self.max_size_limit {
                    // §6.3: above the limit is a decoding error.
                    return Err(DecoderError::TableSizeUpdateTooLarge);
                }
                self.table.set_max_size(size);
                self.size_update_required = false;
                continue;
            } else {
                // §6.2.2 without indexing (0000) or §6.2.3 never indexed (0001).
                let sensitive = b & 0x10 != 0;
                let index = decode_integer(src, &mut pos, 4)?;
                let name = self.name(block, &mut pos, index)?;
                let value = self.string(block, &mut pos)?;
                (name.bytes, value.bytes, sensitive, false)
            };
            emit(name, value, sensitive, field_ok);
            at_start = false;
        }
        if self.arena.capacity() > ARENA_KEEP_MAX {
            // One huge string must not make the decoder hold a huge buffer for good.
            self.arena = BytesMut::new();
        }
        if list_size > limit {
            return Err(DecoderError::HeaderListTooLarge);
        }
        Ok(())
    }

    /// The name of a literal: from the table when `index != 0`, else a string literal.
    #[inline]
    fn name(&mut self, block: &Bytes, pos: &mut usize, index: usize) -> Result<Str, DecoderError> {
        if index == 0 {
            self.string(block, pos)
        } else {
            let bytes = self.table.name(index).ok_or(DecoderError::InvalidIndex)?;
            Ok(Str {
                bytes,
                in_block: false,
            })
        }
    }

    /// §5.2 string literal at `*pos`.
    #[inline]
    fn string(&mut self, block: &Bytes, pos: &mut usize) -> Result<Str, DecoderError> {
        let src: &[u8] = block;
        let Some(&first) = src.get(*pos) else {
            return Err(DecoderError::StringTruncated);
        };
        let len = decode_integer(src, pos, 7)?;
        let start = *pos;
        let end = match start.checked_add(len) {
            Some(end) if end <= src.len() => end,
            _ => return Err(DecoderError::StringTruncated),
        };
        *pos = end;
        if first & 0x80 == 0 {
            return Ok(Str {
                bytes: block.slice(start..end),
                in_block: true,
            });
        }
        let bound = huffman::decoded_len_bound(len);
        if self.arena.capacity() < bound {
            self.arena.reserve(bound.max(ARENA_CHUNK));
        }
        huffman::decode(&src[start..end], &mut self.arena)
            .map_err(|_| DecoderError::InvalidHuffman)?;
        Ok(Str {
            bytes: self.arena.split().freeze(),
            in_block: false,
        })
    }

    /// What the dynamic table should hold for `s`: the block slice itself if the block is small,
    /// else a copy, so that a few table entries cannot pin many large blocks.
    fn owned_if_large(&mut self, block: &Bytes, s: &Str) -> Bytes {
        if !s.in_block || block.len() <= SHARE_BLOCK_LIMIT {
            return s.bytes.clone();
        }
        if self.arena.capacity() < s.bytes.len() {
            self.arena.reserve(s.bytes.len().max(ARENA_CHUNK));
        }
        self.arena.extend_from_slice(&s.bytes);
        self.arena.split().freeze()
    }

    /// Test hook: the dynamic table, newest (index 62) first, and its §4.1 size.
    #[doc(hidden)]
    pub fn dynamic_table(&self) -> (Vec<(Bytes, Bytes)>, usize) {
        let entries = self.table.entries();
        let entries = entries.map(|(name, value)| (name.clone(), value.clone()));
        (entries.collect(), self.table.size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(d: &mut Decoder, block: &[u8]) -> (Vec<Header>, Result<(), DecoderError>) {
        let mut out = Vec::new();
        let r = d.decode(&Bytes::copy_from_slice(block), |h| out.push(h));
        (out, r)
    }

    fn error(block: &[u8]) -> DecoderError {
        decode(&mut Decoder::new(4096), block).1.unwrap_err()
    }

    fn assert_compression_error(e: DecoderError) {
        assert_eq!(e.reason(), Reason::COMPRESSION_ERROR, "{e:?}");
    }

    #[test]
    fn integer_above_u32_is_integer_overflow() {
        // Indexed field, index 127 + 0x7f + ... with six continuation octets.
        let e = error(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(e, DecoderError::IntegerOverflow);
        assert_compression_error(e);
        // Within five continuation octets but above 2^32 - 1.
        let e = error(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(e, DecoderError::IntegerOverflow);
    }

    #[test]
    fn integer_cut_short_is_integer_truncated() {
        let e = error(&[0xff, 0x80]);
        assert_eq!(e, DecoderError::IntegerTruncated);
        assert_compression_error(e);
        // A string length cut short.
        assert_eq!(error(&[0x40, 0x7f]), DecoderError::IntegerTruncated);
    }

    #[test]
    fn string_longer_than_block_is_string_truncated() {
        let e = error(&[0x40, 0x05, b'a', b'b']);
        assert_eq!(e, DecoderError::StringTruncated);
        assert_compression_error(e);
        // Block ends where the value should start.
        assert_eq!(error(&[0x41]), DecoderError::StringTruncated);
        assert_eq!(error(&[0x40]), DecoderError::StringTruncated);
        // Huffman value cut short.
        assert_eq!(error(&[0x41, 0x85, 0xff]), DecoderError::StringTruncated);
    }

    #[test]
    fn bad_huffman_is_invalid_huffman() {
        // Padding of zeros ("0" = 00000, then 000).
        let e = error(&[0x00, 0x81, 0x00, 0x00]);
        assert_eq!(e, DecoderError::InvalidHuffman);
        assert_compression_error(e);
        // Padding longer than 7 bits.
        assert_eq!(error(&[0x41, 0x81, 0xff]), DecoderError::InvalidHuffman);
        // EOS in the string.
        assert_eq!(
            error(&[0x41, 0x84, 0xff, 0xff, 0xff, 0xff]),
            DecoderError::InvalidHuffman
        );
    }

    #[test]
    fn index_zero_or_out_of_range_is_invalid_index() {
        let e = error(&[0x80]);
        assert_eq!(e, DecoderError::InvalidIndex);
        assert_compression_error(e);
        // 62 with an empty dynamic table.
        assert_eq!(error(&[0xbe]), DecoderError::InvalidIndex);
        // Literal naming entry 62.
        assert_eq!(error(&[0x7e, 0x00]), DecoderError::InvalidIndex);
        assert_eq!(error(&[0x0f, 0x2f, 0x00]), DecoderError::InvalidIndex);
        // In range once the entry exists.
        let mut d = Decoder::new(4096);
        assert_eq!(
            decode(&mut d, &[0x40, 0x01, b'a', 0x01, b'b', 0xbe]).1,
            Ok(())
        );
        assert_eq!(decode(&mut d, &[0xbf]).1, Err(DecoderError::InvalidIndex));
    }

    #[test]
    fn size_update_after_a_field_is_not_at_start() {
        let e = error(&[0x82, 0x20]);
        assert_eq!(e, DecoderError::TableSizeUpdateNotAtStart);
        assert_compression_error(e);
        // Two updates at the start are fine (§4.2 "shrink then grow").
        let mut d = Decoder::new(4096);
        assert_eq!(decode(&mut d, &[0x20, 0x3f, 0xe1, 0x1f, 0x82]).1, Ok(()));
    }

    #[test]
    fn size_update_above_our_setting_is_too_large() {
        // 4097 = 31 + 98 + 31 * 128.
        let e = error(&[0x3f, 0xe2, 0x1f]);
        assert_eq!(e, DecoderError::TableSizeUpdateTooLarge);
        assert_compression_error(e);
        let mut d = Decoder::new(4096);
        d.set_max_table_size(8192);
        assert_eq!(decode(&mut d, &[0x3f, 0xe2, 0x1f]).1, Ok(()));
        d.set_max_table_size(100);
        assert_eq!(
            decode(&mut d, &[0x3f, 0x46]).1,
            Err(DecoderError::TableSizeUpdateTooLarge)
        );
    }

    #[test]
    fn lowered_setting_without_size_update_is_missing() {
        let mut d = Decoder::new(4096);
        d.set_max_table_size(100);
        let e = decode(&mut d, &[0x82]).1.unwrap_err();
        assert_eq!(e, DecoderError::TableSizeUpdateMissing);
        assert_compression_error(e);
        assert_eq!(
            decode(&mut d, &[]).1,
            Err(DecoderError::TableSizeUpdateMissing)
        );
        // 0x3f 0x45 = 100.
        assert_eq!(decode(&mut d, &[0x3f, 0x45, 0x82]).1, Ok(()));
        assert_eq!(decode(&mut d, &[0x82]).1, Ok(()));
        // Raising the setting asks for nothing.
        d.set_max_table_size(4096);
        assert_eq!(decode(&mut d, &[0x82]).1, Ok(()));
    }

    #[test]
    fn header_list_over_limit_is_too_large_but_table_stays_in_sync() {
        let mut d = Decoder::new(4096);
        // ":method: GET" is 7 + 3 + 32 = 42 octets.
        d.set_max_header_list_size(84);
        let (got, r) = decode(&mut d, &[0x82, 0x82]);
        assert_eq!((got.len(), r), (2, Ok(())));
        // The third field crosses the limit: it and every later field are withheld, but the
        // literal after it is still added to the table.
        let (got, r) = decode(&mut d, &[0x82, 0x82, 0x82, 0x40, 0x01, b'a', 0x01, b'b']);
        assert_eq!(got.len(), 2);
        let e = r.unwrap_err();
        assert_eq!(e, DecoderError::HeaderListTooLarge);
        assert_eq!(e.reason(), Reason::PROTOCOL_ERROR);
        assert_eq!(d.dynamic_table().1, 34);
        let (got, r) = decode(&mut d, &[0xbe]);
        assert_eq!(r, Ok(()));
        assert_eq!(
            (&got[0].name[..], &got[0].value[..]),
            (&b"a"[..], &b"b"[..])
        );
    }

    #[test]
    fn never_indexed_literal_is_sensitive_and_not_indexed() {
        let mut d = Decoder::new(4096);
        let (got, r) = decode(
            &mut d,
            &[0x10, 0x01, b'k', 0x01, b'v', 0x00, 0x01, b'k', 0x00],
        );
        assert_eq!(r, Ok(()));
        assert!(got[0].sensitive);
        assert!(!got[1].sensitive);
        assert_eq!(d.dynamic_table().1, 0);
    }

    #[test]
    fn literals_are_slices_of_the_block() {
        let block = Bytes::from_static(&[0x00, 0x01, b'k', 0x02, b'v', b'w']);
        let mut d = Decoder::new(4096);
        let mut got = Vec::new();
        d.decode(&block, |h| got.push(h)).unwrap();
        assert_eq!(got[0].value.as_ptr(), block[4..].as_ptr());
    }

    #[test]
    fn oversized_entry_empties_the_table() {
        let mut d = Decoder::new(64);
        assert_eq!(decode(&mut d, &[0x40, 0x01, b'a', 0x01, b'b']).1, Ok(()));
        assert_eq!(d.dynamic_table().1, 34);
        let mut big = vec![0x40, 0x01, b'a', 0x20];
        big.extend_from_slice(&[b'x'; 32]);
        assert_eq!(decode(&mut d, &big).1, Ok(()));
        assert_eq!(d.dynamic_table(), (vec![], 0));
    }

    #[test]
    fn large_blocks_are_not_pinned_by_the_table() {
        // "a: b" indexed, then a 5000-octet value (127 + 9 + 38 * 128) without indexing.
        let mut block = vec![
            0x40, 0x01, b'a', 0x01, b'b', 0x00, 0x01, b'p', 0x7f, 0x89, 0x26,
        ];
        block.extend_from_slice(&[b'x'; 5000]);
        let block = Bytes::from(block);
        let mut d = Decoder::new(4096);
        d.decode(&block, |_| ()).unwrap();
        let (entries, _) = d.dynamic_table();
        let range = block.as_ptr_range();
        assert!(!range.contains(&entries[0].1.as_ptr()));
    }

    #[test]
    fn fields_are_vouched_for_only_from_a_table_and_when_they_pass_the_byte_rules() {
        let mut d = Decoder::new(4096);
        let mut seen = Vec::new();
        // :method GET (static 2); literal with indexing "x-a: 1" and "X-B: 2" (uppercase: bad);
        // literal without indexing "x-c: 3"; then indexed 63 ("x-a: 1") and 62 ("X-B: 2").
        let mut block = vec![0x82];
        for (name, value) in [(&b"x-a"[..], &b"1"[..]), (b"X-B", b"2")] {
            block.extend([0x40, name.len() as u8]);
            block.extend(name);
            block.extend([value.len() as u8]);
            block.extend(value);
        }
        block.extend([0x00, 3, b'x', b'-', b'c', 1, b'3', 0xbf, 0xbe]);
        let r = d.decode_fields(&Bytes::from(block), |h, ok| seen.push((h.name, ok)));
        assert_eq!(r, Ok(()));
        let expected: [(&[u8], bool); 6] = [
            (b":method", true),
            (b"x-a", true),
            (b"X-B", false),
            (b"x-c", false),
            (b"x-a", true),
            (b"X-B", false),
        ];
        let seen: Vec<(&[u8], bool)> = seen.iter().map(|(n, ok)| (&n[..], *ok)).collect();
        assert_eq!(seen, expected);
    }
}
