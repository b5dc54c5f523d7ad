//! How a response's head describes its body, for both protocols (RFC 9110 §8.6, §6.4.1).

use crate::hpack::Header;
use bytes::{Bytes, BytesMut};

/// Adds `content-length` to response heads whose body length is known in advance, cutting the
/// digits from one shared buffer (one allocation serves many responses, not a `String` each).
#[derive(Debug, Default)]
pub struct ContentLength {
    digits: BytesMut,
}

impl ContentLength {
    /// A writer with no buffer yet.
    pub fn new() -> ContentLength {
        ContentLength::default()
    }

    /// Adds `content-length: body_len` to `head` (`:status` first, as the core takes it) when
    /// the length is known and the head has none, except where the status allows no content:
    /// 1xx, 204 (RFC 9110 §8.6: MUST NOT send it) and 304 (where it would describe the
    /// selected representation, not this message). A response to HEAD keeps it: it tells the
    /// length a GET would have had (§9.3.2).
    pub fn apply(&mut self, head: &mut Vec<Header>, body_len: Option<u64>) {
        let Some(n) = body_len else {
            return;
        };
        let status = head
            .first()
            .filter(|h| h.name == ":status")
            .map(|h| &h.value[..]);
        let no_content =
            matches!(status, Some(s) if s == b"204" || s == b"304" || s.first() == Some(&b'1'));
        if no_content || head.iter().any(|h| h.name == "content-length") {
            return;
        }
        let value = self.digits(n);
        head.push(Header::new("content-length", value));
    }

    fn digits(&mut self, mut n: u64) -> Bytes {
        // A small length (most small responses) is a slice of a static table: no buffer to
        // cut, no reference count to bump and drop.
        if let Some(ascii) = usize::try_from(n).ok().and_then(|i| SMALL_LENGTHS.get(i)) {
            let len = match n {
                0..=9 => 1,
                10..=99 => 2,
                _ => 3,
            };
            return Bytes::from_static(&ascii[..len]);
        }
        // By hand rather than through `fmt`: this runs for most responses.
        let mut ascii = [0u8; 20];
        let mut at = ascii.len();
        loop {
            at -= 1;
            ascii[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if self.digits.capacity() - self.digits.len() < 20 {
            self.digits.reserve(512);
        }
        self.digits.extend_from_slice(&ascii[at..]);
        self.digits.split().freeze()
    }
}

/// The decimal digits of 0..=999, left-aligned, made at compile time.
static SMALL_LENGTHS: [[u8; 3]; 1000] = {
    let mut t = [[0u8; 3]; 1000];
    let mut i = 0;
    while i < 1000 {
        t[i] = if i < 10 {
            [b'0' + i as u8, 0, 0]
        } else if i < 100 {
            [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8, 0]
        } else {
            [
                b'0' + (i / 100) as u8,
                b'0' + (i / 10 % 10) as u8,
                b'0' + (i % 10) as u8,
            ]
        };
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: &'static str) -> Vec<Header> {
        vec![Header::new(":status", status)]
    }

    fn length(h: &[Header]) -> Option<&[u8]> {
        h.iter()
            .find(|h| h.name == "content-length")
            .map(|h| &h.value[..])
    }

    #[test]
    fn lengths_from_the_table_and_from_the_buffer_are_plain_decimals() {
        let mut cl = ContentLength::new();
        for n in [0, 6, 9, 10, 42, 99, 100, 999, 1000, 16384, u64::MAX] {
            let mut h = head("200");
            cl.apply(&mut h, Some(n));
            assert_eq!(length(&h), Some(n.to_string().as_bytes()), "{n}");
        }
    }

    #[test]
    fn known_length_is_announced() {
        let mut cl = ContentLength::new();
        let mut h = head("200");
        cl.apply(&mut h, Some(1234));
        assert_eq!(length(&h), Some(&b"1234"[..]));
        let mut h = head("200");
        cl.apply(&mut h, Some(u64::MAX));
        assert_eq!(length(&h), Some(&b"18446744073709551615"[..]));
        let mut h = head("200");
        cl.apply(&mut h, Some(0));
        assert_eq!(
            length(&h),
            Some(&b"0"[..]),
            "an empty body is a known length"
        );
    }

    #[test]
    fn unknown_length_or_one_given_by_the_handler_is_left_alone() {
        let mut cl = ContentLength::new();
        let mut h = head("200");
        cl.apply(&mut h, None);
        assert_eq!(length(&h), None);
        let mut h = head("200");
        h.push(Header::new("content-length", "7"));
        cl.apply(&mut h, Some(7));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn statuses_without_content_get_no_length() {
        let mut cl = ContentLength::new();
        for status in ["204", "304", "103"] {
            let mut h = head(status);
            cl.apply(&mut h, Some(0));
            assert_eq!(length(&h), None, "{status}");
        }
    }
}
