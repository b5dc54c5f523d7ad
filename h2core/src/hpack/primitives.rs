//! Primitive type representations of RFC 7541 §5: prefixed integers (§5.1) and string
//! literals (§5.2).

use super::huffman;
use bytes::{BufMut, BytesMut};

/// Largest integer we accept. §5.1 sets no limit, but every HPACK integer is an index, a length
/// or a table size that fits in 32 bits; larger ones can only be an attack.
pub(crate) const MAX_INTEGER: u64 = u32::MAX as u64;

/// Continuation octets allowed after the prefix: 5 × 7 bits cover [`MAX_INTEGER`].
const MAX_CONTINUATION: usize = 5;

/// Why a §5.1 integer could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntegerError {
    /// Larger than [`MAX_INTEGER`] or too many continuation octets.
    Overflow,
    /// The block ended inside the integer.
    Truncated,
}

/// §5.1: decodes an integer with an `n`-bit prefix starting at `src[*pos]`, advancing `*pos`.
/// The caller has checked that `*pos < src.len()`.
#[inline]
pub(crate) fn decode_integer(src: &[u8], pos: &mut usize, n: u8) -> Result<usize, IntegerError> {
    let mask = u8::MAX >> (8 - n);
    let first = src.get(*pos).ok_or(IntegerError::Truncated)? & mask;
    *pos += 1;
    if first < mask {
        return Ok(usize::from(first));
    }
    let mut value = u64::from(mask);
    let mut shift = 0;
    for _ in 0..MAX_CONTINUATION {
        let b = *src.get(*pos).ok_or(IntegerError::Truncated)?;
        *pos += 1;
        value += u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return if value > MAX_INTEGER {
                Err(IntegerError::Overflow)
            } else {
                Ok(value as usize)
            };
        }
        shift += 7;
    }
    Err(IntegerError::Overflow)
}

/// §5.1: appends `value` with an `n`-bit prefix; `flags` fills the bits above the prefix.
/// Inline for the one-octet case (every index below the prefix's maximum, every short length).
#[inline(always)]
pub(crate) fn encode_integer(dst: &mut BytesMut, flags: u8, n: u8, value: usize) {
    let mask = (1usize << n) - 1;
    if value < mask {
        dst.put_u8(flags | value as u8);
    } else {
        encode_long_integer(dst, flags | mask as u8, value - mask);
    }
}

/// §5.1 from the first octet on: the prefix is full (`first`), `rest` follows in 7-bit groups.
#[inline(always)]
fn encode_long_integer(dst: &mut BytesMut, first: u8, rest: usize) {
    // Two octets: a static name index above a 4-bit prefix, a length of 127..=254.
    if rest < 128 {
        dst.extend_from_slice(&[first, rest as u8]);
    } else {
        encode_longer_integer(dst, first, rest);
    }
}

#[inline(never)]
fn encode_longer_integer(dst: &mut BytesMut, first: u8, mut rest: usize) {
    let mut buf = [0u8; 11];
    buf[0] = first;
    let mut i = 1;
    while rest >= 128 {
        buf[i] = rest as u8 | 0x80;
        rest >>= 7;
        i += 1;
    }
    buf[i] = rest as u8;
    dst.extend_from_slice(&buf[..=i]);
}

/// Whether string literals are Huffman-coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HuffmanMode {
    /// Only when that is strictly shorter (what the encoder does).
    Shorter,
    /// Always (RFC 7541 Appendix C.4 and C.6).
    Always,
    /// Never (RFC 7541 Appendix C.3 and C.5).
    Never,
}

/// §5.2: appends `s` as a string literal.
#[inline]
pub(crate) fn encode_string(dst: &mut BytesMut, s: &[u8], mode: HuffmanMode) {
    // Measuring first is cheap (a table sum the compiler vectorizes), and saves encoding
    // strings whose code would not be shorter.
    // The shortest code is 5 bits, so one or two octets never get shorter (§5.2: only a
    // strictly shorter code is used): no need to measure them.
    let huffman_len = match mode {
        HuffmanMode::Never => return encode_raw(dst, s),
        HuffmanMode::Shorter if s.len() <= 2 => return encode_raw(dst, s),
        _ => huffman::encoded_len(s),
    };
    if mode == HuffmanMode::Shorter && huffman_len >= s.len() {
        return encode_raw(dst, s);
    }
    dst.reserve(huffman_len + 5);
    encode_integer(dst, 0x80, 7, huffman_len);
    huffman::encode_measured(s, huffman_len, dst);
}

#[inline(always)]
fn encode_raw(dst: &mut BytesMut, s: &[u8]) {
    dst.reserve(s.len() + 5);
    encode_integer(dst, 0, 7, s.len());
    dst.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(flags: u8, n: u8, v: usize) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_integer(&mut b, flags, n, v);
        b.to_vec()
    }

    #[test]
    fn rfc7541_c1_integers() {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 at an octet.
        assert_eq!(enc(0, 5, 10), [0x0a]);
        assert_eq!(enc(0, 5, 1337), [0x1f, 0x9a, 0x0a]);
        assert_eq!(enc(0, 8, 42), [0x2a]);
        for (bytes, n, v) in [(&[0x0a][..], 5, 10), (&[0x1f, 0x9a, 0x0a], 5, 1337)] {
            let mut pos = 0;
            assert_eq!(decode_integer(bytes, &mut pos, n), Ok(v));
            assert_eq!(pos, bytes.len());
        }
    }

    #[test]
    fn integers_round_trip_at_every_prefix() {
        for n in 1..=8 {
            for v in [
                0,
                1,
                30,
                31,
                126,
                127,
                128,
                255,
                256,
                16383,
                1 << 20,
                u32::MAX as usize,
            ] {
                let b = enc(0, n, v);
                let mut pos = 0;
                assert_eq!(decode_integer(&b, &mut pos, n), Ok(v), "n={n} v={v}");
                assert_eq!(pos, b.len());
            }
        }
    }

    #[test]
    fn integer_above_u32_max_overflows() {
        let b = enc(0, 5, u32::MAX as usize + 1);
        assert_eq!(decode_integer(&b, &mut 0, 5), Err(IntegerError::Overflow));
        let long = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert_eq!(
            decode_integer(&long, &mut 0, 5),
            Err(IntegerError::Overflow)
        );
    }

    #[test]
    fn integer_cut_short_is_truncated() {
        assert_eq!(
            decode_integer(&[0x1f, 0x9a], &mut 0, 5),
            Err(IntegerError::Truncated)
        );
        assert_eq!(decode_integer(&[], &mut 0, 5), Err(IntegerError::Truncated));
    }
}
