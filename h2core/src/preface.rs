//! The connection preface (RFC 9113 §3.4) and telling HTTP/2 from HTTP/1.1 on one port.

/// §3.4: the client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes from a client on a cleartext port say it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// The HTTP/2 preface (prior knowledge, §3.3).
    Http2,
    /// Anything else: HTTP/1.1 (possibly asking to `Upgrade: h2c`).
    Http1,
    /// Too few bytes to tell.
    NeedMore,
}

/// Tells HTTP/2 prior knowledge from HTTP/1.1 by the first bytes received.
pub fn sniff(buf: &[u8]) -> Sniff {
    let n = buf.len().min(PREFACE.len());
    if buf[..n] != PREFACE[..n] {
        Sniff::Http1
    } else if n == PREFACE.len() {
        Sniff::Http2
    } else {
        Sniff::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_preface_http1_and_partial() {
        assert_eq!(sniff(PREFACE), Sniff::Http2);
        assert_eq!(sniff(b"PRI * HTTP/2.0\r\n"), Sniff::NeedMore);
        assert_eq!(sniff(b""), Sniff::NeedMore);
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniff::Http1);
        assert_eq!(sniff(b"PRI * HTTP/1.1"), Sniff::Http1);
    }
}
