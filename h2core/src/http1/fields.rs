//! Field lines (RFC 9112 §5, RFC 9110 §5): turning `httparse` output into zero-copy, lowercase
//! [`Header`]s, and reading comma-separated lists (RFC 9110 §5.6.1).

use crate::hpack::Header;
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// Heads with at most this many field lines are parsed with header slots on the stack.
const STACK_HEADERS: usize = 128;

/// Runs `f` with `max` empty `httparse` header slots, which may borrow from a buffer living
/// for `'b`.
pub(crate) fn with_slots<'b, R>(max: usize, f: impl FnOnce(&mut [httparse::Header<'b>]) -> R) -> R {
    if max <= STACK_HEADERS {
        let mut slots: [httparse::Header<'b>; STACK_HEADERS] =
            [httparse::EMPTY_HEADER; STACK_HEADERS];
        f(&mut slots[..max])
    } else {
        let mut slots: Vec<httparse::Header<'b>> = vec![httparse::EMPTY_HEADER; max];
        f(&mut slots)
    }
}

/// Where `part` lies inside `base`, as everything `httparse` returns lies inside the buffer it
/// parsed. An empty part (which `httparse` may point anywhere) is the empty range.
pub(crate) fn range_in(base: &[u8], part: &[u8]) -> Range<usize> {
    if part.is_empty() {
        return 0..0;
    }
    let start = (part.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
    if start > base.len() || base.len() - start < part.len() {
        return 0..0;
    }
    start..start + part.len()
}

/// The name and value positions of parsed field lines, to slice once the buffer is frozen.
pub(crate) type FieldRanges = Vec<(Range<usize>, Range<usize>)>;

pub(crate) fn field_ranges(base: &[u8], parsed: &[httparse::Header<'_>]) -> FieldRanges {
    parsed
        .iter()
        .map(|h| (range_in(base, h.name.as_bytes()), range_in(base, h.value)))
        .collect()
}

/// Splits the first `len` bytes off `buf` and returns them frozen with the fields at `ranges`.
///
/// Names are lowercased in place first (HTTP/2 requires lowercase, RFC 9113 §8.2.1; HTTP/1.1
/// names are case-insensitive, RFC 9110 §5.1), so every name and value is a slice of the
/// received bytes, never a copy. `httparse` has already removed the OWS around values
/// (RFC 9112 §5.1).
pub(crate) fn freeze_fields(
    buf: &mut BytesMut,
    len: usize,
    ranges: &FieldRanges,
) -> (Bytes, Vec<Header>) {
    for (name, _) in ranges {
        buf[name.clone()].make_ascii_lowercase();
    }
    let head = buf.split_to(len).freeze();
    let headers = ranges
        .iter()
        .map(|(name, value)| Header::new(head.slice(name.clone()), head.slice(value.clone())))
        .collect();
    (head, headers)
}

/// Removes optional whitespace (SP / HTAB, RFC 9110 §5.6.3) around `b`.
pub(crate) fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ' && c != b'\t');
    let Some(start) = start else {
        return &[];
    };
    let end = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .unwrap_or(start);
    &b[start..=end]
}

/// All values of the field `name` (lowercase).
pub(crate) fn values<'a>(headers: &'a [Header], name: &'a [u8]) -> impl Iterator<Item = &'a Bytes> {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| &h.value)
}

/// The members of the list-valued field `name` across all its lines, trimmed, empty members
/// skipped (RFC 9110 §5.6.1: a recipient MUST accept and ignore empty elements; §5.3: lines of
/// one list combine in order).
pub(crate) fn list<'a>(headers: &'a [Header], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    values(headers, name)
        .flat_map(|v| v.split(|&c| c == b','))
        .map(trim_ows)
        .filter(|m| !m.is_empty())
}

/// Whether the list-valued field `name` has the member `token` (case-insensitive, as connection
/// options, upgrade protocols and expectations are, RFC 9110 §7.6.1, §7.8, §10.1.1).
pub(crate) fn has_token(headers: &[Header], name: &[u8], token: &[u8]) -> bool {
    list(headers, name).any(|m| m.eq_ignore_ascii_case(token))
}

/// The number of lines of field `name`.
pub(crate) fn count(headers: &[Header], name: &[u8]) -> usize {
    values(headers, name).count()
}

/// RFC 9110 §5.6.2 tchar.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// RFC 9110 §5.6.2 token: one or more tchar.
pub(crate) fn is_token(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| is_tchar(c))
}

/// A field value we can write without it changing the framing (RFC 9110 §5.5): no CR, LF or
/// NUL, and no other control but HTAB.
pub(crate) fn is_valid_value(b: &[u8]) -> bool {
    b.iter().all(|&c| c == b'\t' || (c >= 0x20 && c != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &'static str, value: &'static str) -> Header {
        Header::new(name, value)
    }

    #[test]
    fn list_members_span_lines_and_skip_empty_elements() {
        let headers = [
            h("connection", " keep-alive ,, Upgrade"),
            h("other", "close"),
            h("connection", "HTTP2-Settings,"),
        ];
        let members: Vec<&[u8]> = list(&headers, b"connection").collect();
        assert_eq!(members, [&b"keep-alive"[..], b"Upgrade", b"HTTP2-Settings"]);
        assert!(has_token(&headers, b"connection", b"upgrade"));
        assert!(!has_token(&headers, b"connection", b"close"));
        assert_eq!(count(&headers, b"connection"), 2);
    }

    #[test]
    fn trims_only_ows() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
    }

    #[test]
    fn values_with_controls_are_not_writable() {
        assert!(is_valid_value(b"a\tb c~\x80"));
        assert!(!is_valid_value(b"a\r\nb"));
        assert!(!is_valid_value(b"a\0"));
        assert!(is_token(b"x-custom"));
        assert!(!is_token(b"x custom"));
        assert!(!is_token(b""));
    }
}
