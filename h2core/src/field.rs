//! The byte rules of RFC 9113 §8.2.1 for one field line, as fast yes/no tests.
//!
//! A name is lowercase and made of `tchar` bytes (no 0x00-0x20, 0x41-0x5A, 0x7F-0xFF, no ':'
//! after a pseudo-header's leading one); a value has no NUL, CR or LF, and no SP or HTAB first or
//! last. `message` applies them to every block (and names the rule a bad field breaks); the
//! HPACK decoder applies them once to each field it adds to its dynamic table and remembers the
//! verdict, so a field the peer sends again by index is not scanned again.

/// RFC 9113 §8.2.1 for a name, without its leading ':' if it is a pseudo-header.
#[inline]
pub(crate) fn name_ok(name: &[u8]) -> bool {
    !words::any(name, words::bad_name_byte)
}

/// RFC 9113 §8.2.1 for a value: no NUL, CR or LF anywhere; no SP or HTAB first or last.
#[inline]
pub(crate) fn value_ok(value: &[u8]) -> bool {
    !value_edge_is_whitespace(value) && !words::any(value, words::bad_value_byte)
}

/// Whether `value` starts or ends with SP or HTAB (RFC 9113 §8.2.1).
#[inline]
pub(crate) fn value_edge_is_whitespace(value: &[u8]) -> bool {
    match (value.first(), value.last()) {
        (Some(&first), Some(&last)) => {
            matches!(first, b' ' | b'\t') || matches!(last, b' ' | b'\t')
        }
        _ => false,
    }
}

/// Whether a field line passes both byte rules, its name without the leading ':' of a
/// pseudo-header (whether that pseudo-header exists, and an empty name, are the block's rules).
pub(crate) fn field_ok(name: &[u8], value: &[u8]) -> bool {
    name_ok(name.strip_prefix(b":").unwrap_or(name)) && value_ok(value)
}

/// Byte-class tests on eight bytes at once (SWAR), for the field checks of RFC 9113 §8.2.1:
/// a branch per word rather than per byte.
pub(crate) mod words {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// A byte repeated in every lane.
    const fn splat(b: u8) -> u64 {
        LO * b as u64
    }

    /// Nonzero iff some byte of `v` is zero (exact as to whether; the lanes above a zero byte
    /// may be flagged too, which does not matter here).
    #[inline(always)]
    fn has_zero(v: u64) -> u64 {
        v.wrapping_sub(LO) & !v & HI
    }

    /// Nonzero iff some byte of `v` is NUL, CR or LF.
    #[inline(always)]
    pub(crate) fn bad_value_byte(v: u64) -> u64 {
        has_zero(v) | has_zero(v ^ splat(b'\r')) | has_zero(v ^ splat(b'\n'))
    }

    /// Nonzero iff some byte of `v` is not allowed in a field name (see `message::NAME_BYTE_OK`):
    /// outside 0x21..=0x7e, uppercase, or ':'.
    #[inline(always)]
    pub(crate) fn bad_name_byte(v: u64) -> u64 {
        // Lanes of `low` are below 0x80, so adding at most 0x5f sets a lane's high bit exactly
        // when the lane is at least 0x80 - k, with no carry into the next lane.
        let low = v & !HI;
        let at_least = |b: u8| low + splat(0x80 - b);
        let high = v;
        let control = !at_least(0x21);
        let del = at_least(0x7f);
        let upper = at_least(b'A') & !at_least(b'Z' + 1);
        ((high | control | del | upper) & HI) | has_zero(v ^ splat(b':'))
    }

    /// Whether `test` flags some word of `s`: `s` is read as little-endian words that cover
    /// every byte (the last one may overlap the one before; a short `s` is padded with 'a',
    /// which no test flags).
    #[inline(always)]
    pub(crate) fn any(s: &[u8], test: impl Fn(u64) -> u64) -> bool {
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("eight bytes"));
        let half = |c: &[u8]| u64::from(u32::from_le_bytes(c.try_into().expect("four bytes")));
        let n = s.len();
        if n >= 8 {
            let mut flags = 0;
            let mut chunks = s.chunks_exact(8);
            for c in &mut chunks {
                flags |= test(word(c));
            }
            if !chunks.remainder().is_empty() {
                flags |= test(word(&s[n - 8..]));
            }
            flags != 0
        } else if n >= 4 {
            test(half(&s[..4]) | half(&s[n - 4..]) << 32) != 0
        } else if n > 0 {
            // Lanes 0..3 hold bytes 0, n/2 and n-1, which for n <= 3 are all of them.
            let v = u64::from(s[0]) | u64::from(s[n / 2]) << 8 | u64::from(s[n - 1]) << 16;
            test(v | (splat(b'a') << 24)) != 0
        } else {
            false
        }
    }
}
