//! The Huffman code of RFC 7541 §5.2 (the code itself is Appendix B).
//!
//! The code table is data (`CODES`); the decoding tables are derived from it at compile time.
//! Decoding looks up the next 12 input bits in a 4096-entry table that yields one or two whole
//! symbols (every printable ASCII byte but a few has a code of at most 12 bits), and falls back to
//! canonical decoding for the rare longer codes. Encoding shifts `(code, len)` pairs into a
//! 64-bit accumulator.

use bytes::BytesMut;

/// RFC 7541 Appendix B: `(code, bit length)` for symbols 0..=255 and EOS (256), four per row
/// (the comment is the row's first symbol).
#[rustfmt::skip]
const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28),              //   0
    (0xfffffe4, 28), (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28),          //   4
    (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),          //   8
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28),         //  12
    (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),          //  16
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),         //  20
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28),          //  24
    (0xffffff8, 28), (0xffffff9, 28), (0xffffffa, 28), (0xffffffb, 28),          //  28
    (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),                            //  32
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),                             //  36
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11),                            //  40
    (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),                                  //  44
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6),                                     //  48
    (0x1a, 6), (0x1b, 6), (0x1c, 6), (0x1d, 6),                                  //  52
    (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),                                  //  56
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10),                           //  60
    (0x1ffa, 13), (0x21, 6), (0x5d, 7), (0x5e, 7),                               //  64
    (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),                                  //  68
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7),                                  //  72
    (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),                                  //  76
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),                                  //  80
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7),                                  //  84
    (0xfc, 8), (0x73, 7), (0xfd, 8), (0x1ffb, 13),                               //  88
    (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),                        //  92
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),                                 //  96
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6),                                   // 100
    (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),                                   // 104
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5),                                   // 108
    (0x2b, 6), (0x76, 7), (0x2c, 6), (0x8, 5),                                   // 112
    (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),                                   // 116
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15),                               // 120
    (0x7fc, 11), (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28),                    // 124
    (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),                 // 128
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23),              // 132
    (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),              // 136
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),              // 140
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23),              // 144
    (0xffffee, 24), (0x7fffe1, 23), (0x7fffe2, 23), (0x7fffe3, 23),              // 148
    (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),              // 152
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),              // 156
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22),               // 160
    (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),              // 164
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24),              // 168
    (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23), (0x7fffec, 23),              // 172
    (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),              // 176
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23),              // 180
    (0xfffea, 20), (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22),               // 184
    (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),              // 188
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19),              // 192
    (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),             // 196
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),          // 200
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25),           // 204
    (0x7fff2, 19), (0x1fffe3, 21), (0x3ffffe6, 26), (0x7ffffe0, 27),             // 208
    (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),           // 212
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),            // 216
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27),          // 220
    (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),                // 224
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23),              // 228
    (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25), (0x1ffffef, 25),            // 232
    (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),             // 236
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26),          // 240
    (0x7ffffe7, 27), (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27),          // 244
    (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),          // 248
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26),          // 252
    (0x3fffffff, 30),                                                            // 256
];

/// The end-of-string symbol, whose decoding is an error (§5.2).
const EOS: usize = 256;

/// Input bits looked up at once by [`FAST`].
const FAST_BITS: u32 = 12;

/// For each 12-bit window: `sym0 | sym1 << 8 | len0 << 16 | total_len << 24`, where `len0` is the
/// bit length of the first symbol and `total_len` that of both (`== len0` when the window holds
/// only one whole symbol). `len0 == 0` means the window starts a code longer than 12 bits.
static FAST: [u32; 1 << FAST_BITS] = build_fast();

/// Canonical-code tables for the slow path: for each bit length `l`, the first code of that length,
/// how many codes have it, and where its symbols start in `sorted`.
static CANON: Canonical = build_canonical();

struct Canonical {
    first: [u32; 31],
    count: [u32; 31],
    offset: [u16; 31],
    sorted: [u16; 257],
}

const fn build_fast() -> [u32; 1 << FAST_BITS] {
    // First a one-symbol table: `sym | len << 8` for every window that starts a code of <= 12 bits.
    let mut single = [0u32; 1 << FAST_BITS];
    let mut s = 0;
    while s < EOS {
        let (code, len) = CODES[s];
        let len = len as u32;
        if len <= FAST_BITS {
            let shift = FAST_BITS - len;
            let mut i = (code << shift) as usize;
            let end = ((code + 1) << shift) as usize;
            while i < end {
                single[i] = s as u32 | len << 8;
                i += 1;
            }
        }
        s += 1;
    }
    let mut fast = [0u32; 1 << FAST_BITS];
    let mask = (1u32 << FAST_BITS) - 1;
    let mut w = 0;
    while w < fast.len() {
        let e0 = single[w];
        let len0 = e0 >> 8;
        if len0 != 0 {
            // The bits after the first code, shifted to the top of a window (zero-filled).
            let e1 = single[((w as u32) << len0 & mask) as usize];
            let len1 = e1 >> 8;
            fast[w] = if len1 != 0 && len0 + len1 <= FAST_BITS {
                (e0 & 0xff) | (e1 & 0xff) << 8 | len0 << 16 | (len0 + len1) << 24
            } else {
                (e0 & 0xff) | len0 << 16 | len0 << 24
            };
        }
        w += 1;
    }
    fast
}

const fn build_canonical() -> Canonical {
    let mut count = [0u32; 31];
    let mut s = 0;
    while s <= EOS {
        count[CODES[s].1 as usize] += 1;
        s += 1;
    }
    let mut first = [0u32; 31];
    let mut offset = [0u16; 31];
    let mut code = 0u32;
    let mut off = 0u16;
    let mut l = 1;
    while l < 31 {
        first[l] = code;
        offset[l] = off;
        code = (code + count[l]) << 1;
        off += count[l] as u16;
        l += 1;
    }
    // Symbols ordered by (length, symbol): the order a canonical code assigns codes in.
    let mut sorted = [0u16; 257];
    let mut next = offset;
    let mut s = 0;
    while s <= EOS {
        let l = CODES[s].1 as usize;
        sorted[next[l] as usize] = s as u16;
        next[l] += 1;
        s += 1;
    }
    Canonical {
        first,
        count,
        offset,
        sorted,
    }
}

/// The Huffman-decoded input was not a valid §5.2 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidHuffman;

impl std::fmt::Display for InvalidHuffman {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hpack: invalid huffman code")
    }
}

impl std::error::Error for InvalidHuffman {}

/// The largest number of bytes `n` bytes of Huffman code can decode to (codes are >= 5 bits),
/// plus slack for the decoder's speculative write of a second symbol.
pub(crate) const fn decoded_len_bound(n: usize) -> usize {
    n / 5 * 8 + (n % 5) * 8 / 5 + 2
}

/// Appends the §5.2 decoding of `src` to `dst`.
///
/// Fails, as §5.2 requires, on padding longer than 7 bits, padding that is not the
/// most-significant bits of EOS (all ones), and an encoded EOS. `dst` is left as it was on error.
pub fn decode(src: &[u8], dst: &mut BytesMut) -> Result<(), InvalidHuffman> {
    let start = dst.len();
    dst.resize(start + decoded_len_bound(src.len()), 0);
    match decode_into(src, &mut dst[start..]) {
        Ok(n) => {
            dst.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

/// Decodes `src` into `out` (at least [`decoded_len_bound`] long); returns the decoded length.
fn decode_into(src: &[u8], out: &mut [u8]) -> Result<usize, InvalidHuffman> {
    // `acc` holds the next `nbits` input bits at its top; the bits below are zero or the
    // correct following input bits, so OR-ing a reloaded word in is harmless.
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    let mut pos = 0;
    let mut o = 0;
    loop {
        if let Some(word) = src.get(pos..pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            acc |= u64::from_be_bytes(w) >> nbits;
            pos += ((63 - nbits) >> 3) as usize;
            nbits |= 56;
        } else {
            while nbits <= 56 && pos < src.len() {
                acc |= u64::from(src[pos]) << (56 - nbits);
                nbits += 8;
                pos += 1;
            }
        }
        // With >= 30 bits buffered every code fits, so no per-symbol length check is needed.
        while nbits >= 30 {
            let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
            let len0 = (e >> 16) & 0xff;
            if len0 != 0 {
                let total = e >> 24;
                out[o] = e as u8;
                out[o + 1] = (e >> 8) as u8;
                o += 1 + usize::from(total != len0);
                acc <<= total;
                nbits -= total;
            } else {
                let (sym, len) = decode_long(acc, nbits)?;
                out[o] = sym;
                o += 1;
                acc <<= len;
                nbits -= len;
            }
        }
        if pos >= src.len() {
            break;
        }
    }
    // The input is exhausted and fewer than 30 bits remain: decode carefully, then check padding.
    while nbits > 0 {
        let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
        let len0 = (e >> 16) & 0xff;
        if len0 != 0 {
            let total = e >> 24;
            if total <= nbits {
                out[o] = e as u8;
                out[o + 1] = (e >> 8) as u8;
                o += 1 + usize::from(total != len0);
                acc <<= total;
                nbits -= total;
            } else if len0 <= nbits {
                out[o] = e as u8;
                o += 1;
                acc <<= len0;
                nbits -= len0;
            } else {
                break;
            }
        } else {
            match decode_long(acc, nbits) {
                Ok((sym, len)) => {
                    out[o] = sym;
                    o += 1;
                    acc <<= len;
                    nbits -= len;
                }
                Err(_) => break,
            }
        }
    }
    // §5.2: the padding MUST be shorter than 8 bits and be a prefix of EOS (all ones).
    if nbits > 7 || (nbits > 0 && acc >> (64 - nbits) != (1u64 << nbits) - 1) {
        return Err(InvalidHuffman);
    }
    Ok(o)
}

/// Canonical decoding of a code longer than [`FAST_BITS`] at the top of `acc`.
/// Errors if no whole code fits in `nbits`, or if the code is EOS.
#[cold]
fn decode_long(acc: u64, nbits: u32) -> Result<(u8, u32), InvalidHuffman> {
    let mut l = FAST_BITS + 1;
    while l <= 30 && l <= nbits {
        let code = (acc >> (64 - l)) as u32;
        let i = code.wrapping_sub(CANON.first[l as usize]);
        if i < CANON.count[l as usize] {
            let sym = CANON.sorted[usize::from(CANON.offset[l as usize]) + i as usize];
            // §5.2: a string containing EOS MUST be treated as a decoding error.
            if usize::from(sym) == EOS {
                return Err(InvalidHuffman);
            }
            return Ok((sym as u8, l));
        }
        l += 1;
    }
    Err(InvalidHuffman)
}

/// The length in bytes of the §5.2 encoding of `src` (including padding).
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src
        .iter()
        .map(|&b| usize::from(CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends the §5.2 encoding of `src` to `dst`, padded with the high bits of EOS.
pub fn encode(src: &[u8], dst: &mut BytesMut) {
    encode_measured(src, encoded_len(src), dst);
}

/// [`encode`] when the caller has already measured `n == encoded_len(src)`.
#[inline]
pub(crate) fn encode_measured(src: &[u8], n: usize, dst: &mut BytesMut) {
    let start = dst.len();
    dst.resize(start + n, 0);
    encode_into(src, &mut dst[start..]);
}

/// Encodes `src` into `out`, which is exactly [`encoded_len`] bytes long.
#[inline]
fn encode_into(src: &[u8], out: &mut [u8]) {
    // Codes are at most 30 bits and fewer than 32 bits are pending before each one, so the
    // accumulator never holds more than 61 live bits. (Measured: this branchy 32-bit flush beats
    // branch-free 8-byte stores, whose store chain is longer.)
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    let mut o = 0;
    for &b in src {
        let (code, len) = CODES[usize::from(b)];
        acc = acc << len | u64::from(code);
        bits += u32::from(len);
        if bits >= 32 {
            bits -= 32;
            out[o..o + 4].copy_from_slice(&((acc >> bits) as u32).to_be_bytes());
            o += 4;
        }
    }
    if bits > 0 {
        // §5.2: pad to an octet boundary with the most significant bits of EOS (all ones).
        let pad = (8 - bits % 8) % 8;
        acc = acc << pad | ((1u64 << pad) - 1);
        bits += pad;
        while bits > 0 {
            bits -= 8;
            out[o] = (acc >> bits) as u8;
            o += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(src: &[u8]) -> Result<Vec<u8>, InvalidHuffman> {
        let mut out = BytesMut::new();
        decode(src, &mut out).map(|()| out.to_vec())
    }

    fn enc(src: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(src, &mut out);
        out.to_vec()
    }

    #[test]
    fn code_table_is_canonical_and_complete() {
        // Kraft equality: the code is complete, so every bit string is a prefix of some code.
        let kraft: u64 = CODES.iter().map(|&(_, l)| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
        for (s, &(code, len)) in CODES.iter().enumerate() {
            let l = len as usize;
            let i = code - CANON.first[l];
            assert!(i < CANON.count[l]);
            assert_eq!(
                usize::from(CANON.sorted[CANON.offset[l] as usize + i as usize]),
                s
            );
        }
    }

    #[test]
    fn every_symbol_round_trips_alone_and_in_pairs() {
        for a in 0..=255u8 {
            assert_eq!(dec(&enc(&[a])).unwrap(), [a]);
            for b in [b'a', b'0', b' ', b'~', 0, 255] {
                assert_eq!(dec(&enc(&[a, b])).unwrap(), [a, b]);
                assert_eq!(dec(&enc(&[b, a, b])).unwrap(), [b, a, b]);
            }
        }
    }

    #[test]
    fn rfc7541_c4_strings() {
        let cases: [(&str, &str); 4] = [
            ("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"),
            ("no-cache", "a8eb10649cbf"),
            ("custom-key", "25a849e95ba97d7f"),
            ("custom-value", "25a849e95bb8e8b4bf"),
        ];
        for (plain, hex) in cases {
            let code: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(enc(plain.as_bytes()), code);
            assert_eq!(encoded_len(plain.as_bytes()), code.len());
            assert_eq!(dec(&code).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn padding_longer_than_seven_bits_is_rejected() {
        assert_eq!(dec(&[0xff]), Err(InvalidHuffman));
        // 'a' (00011) then 11 bits of ones: 8+ bits of padding.
        assert_eq!(dec(&[0x1f, 0xff]), Err(InvalidHuffman));
    }

    #[test]
    fn padding_not_all_ones_is_rejected() {
        // 'a' (00011) then padding 110.
        assert_eq!(dec(&[0x1e]), Err(InvalidHuffman));
        // 'a' then 000: decodes 'a' and leaves a zero prefix of '0' (00000).
        assert_eq!(dec(&[0x18]), Err(InvalidHuffman));
    }

    #[test]
    fn eos_is_rejected() {
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(InvalidHuffman));
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xfc]), Err(InvalidHuffman));
    }

    #[test]
    fn empty_string_decodes_to_empty() {
        assert_eq!(dec(&[]).unwrap(), b"");
        assert!(enc(b"").is_empty());
    }

    #[test]
    fn long_inputs_round_trip() {
        let all: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
        let text = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".repeat(20);
        assert_eq!(dec(&enc(&text)).unwrap(), text);
    }
}
