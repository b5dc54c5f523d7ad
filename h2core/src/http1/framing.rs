//! Message body length (RFC 9112 §6.3): which of Content-Length, chunked or the closing of the
//! connection delimits a body, with the request smuggling defences of §6.1 and §6.3.

use super::fields::{self, trim_ows};
use super::head::{RequestHead, ResponseHead};
use super::{Http1Error, Version};
use crate::hpack::Header;

/// How a message body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// No body at all: a request without Content-Length or Transfer-Encoding (§6.3 item 7), a
    /// response to HEAD, a 1xx, 204 or 304 response, a 2xx response to CONNECT (§6.3 items 1–2).
    Empty,
    /// Exactly this many octets (§6.3 item 6, RFC 9110 §8.6).
    ContentLength(u64),
    /// The chunked transfer coding (§7.1), which may end with trailer fields (§7.1.2).
    Chunked,
    /// Everything until the server closes the connection (§6.3 item 8); responses only, and the
    /// connection cannot persist after it.
    CloseDelimited,
}

impl RequestHead {
    /// How this request's body is delimited (RFC 9112 §6.3 items 3–7).
    ///
    /// Rejected, all with 400 unless said otherwise, because two parsers that disagree on
    /// where a request ends let an attacker smuggle a second request past the first one:
    /// - Transfer-Encoding together with Content-Length (§6.1 allows a server to reject it);
    /// - Transfer-Encoding whose final coding is not `chunked` (§6.3 item 4: MUST answer 400),
    ///   such as `chunked, identity`, or which applies `chunked` twice (§6.1);
    /// - a coding other than `chunked` before it, e.g. `gzip, chunked`: we implement none, so
    ///   501 (§6.1);
    /// - Transfer-Encoding in an HTTP/1.0 request (§6.1: faulty framing);
    /// - a Content-Length that is not digits, or several that differ (§6.3 item 5); one beyond
    ///   64 bits is 413.
    pub fn body_kind(&self) -> Result<BodyKind, Http1Error> {
        if let Some(te) = TransferCodings::of(&self.headers)? {
            if self.version == Version::Http10 {
                return Err(Http1Error::InvalidTransferEncoding);
            }
            if fields::count(&self.headers, b"content-length") > 0 {
                return Err(Http1Error::ContentLengthWithTransferEncoding);
            }
            if !te.final_chunked || te.chunked > 1 {
                return Err(Http1Error::InvalidTransferEncoding);
            }
            if te.others > 0 {
                return Err(Http1Error::UnsupportedTransferEncoding);
            }
            return Ok(BodyKind::Chunked);
        }
        Ok(match content_length(&self.headers)? {
            Some(n) => BodyKind::ContentLength(n),
            None => BodyKind::Empty,
        })
    }
}

impl ResponseHead {
    /// How this response's body is delimited, given the method of the request it answers
    /// (RFC 9112 §6.3 items 1–8).
    ///
    /// With both Transfer-Encoding and Content-Length, Transfer-Encoding wins (§6.3 item 3)
    /// and [`ResponseHead::keep_alive`] turns false, so the connection is not reused after a
    /// message that may have been crafted to split responses. A transfer coding other than
    /// `chunked` is [`Http1Error::UnsupportedTransferEncoding`]: we could not decode the body.
    pub fn body_kind(&self, request_method: &[u8]) -> Result<BodyKind, Http1Error> {
        if request_method == b"HEAD"
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
            || (request_method == b"CONNECT" && (200..300).contains(&self.status))
        {
            return Ok(BodyKind::Empty);
        }
        if let Some(te) = TransferCodings::of(&self.headers)? {
            if self.version == Version::Http10 || te.chunked > 1 {
                return Err(Http1Error::InvalidTransferEncoding);
            }
            if te.others > 0 {
                return Err(Http1Error::UnsupportedTransferEncoding);
            }
            return Ok(BodyKind::Chunked);
        }
        Ok(match content_length(&self.headers)? {
            Some(n) => BodyKind::ContentLength(n),
            None => BodyKind::CloseDelimited,
        })
    }
}

/// The transfer codings of a message (RFC 9112 §6.1), counted.
struct TransferCodings {
    chunked: usize,
    others: usize,
    final_chunked: bool,
}

impl TransferCodings {
    /// `None` without Transfer-Encoding; an error when it is present but lists no coding.
    fn of(headers: &[Header]) -> Result<Option<TransferCodings>, Http1Error> {
        if fields::count(headers, b"transfer-encoding") == 0 {
            return Ok(None);
        }
        let mut te = TransferCodings {
            chunked: 0,
            others: 0,
            final_chunked: false,
        };
        for member in fields::list(headers, b"transfer-encoding") {
            // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9110 §10.1.4)
            let name = trim_ows(member.split(|&c| c == b';').next().unwrap_or_default());
            te.final_chunked = name.eq_ignore_ascii_case(b"chunked");
            if te.final_chunked {
                te.chunked += 1;
            } else {
                te.others += 1;
            }
        }
        if te.chunked + te.others == 0 {
            return Err(Http1Error::InvalidTransferEncoding);
        }
        Ok(Some(te))
    }
}

/// The Content-Length of a message, if any (RFC 9110 §8.6): `1*DIGIT`; several lines, or a
/// comma-separated list, are accepted only when all values are equal (RFC 9112 §6.3 item 5).
fn content_length(headers: &[Header]) -> Result<Option<u64>, Http1Error> {
    let mut length = None;
    for value in fields::values(headers, b"content-length") {
        for member in value.split(|&c| c == b',') {
            let n = parse_decimal(trim_ows(member))?;
            if length.is_some_and(|l| l != n) {
                return Err(Http1Error::DifferingContentLengths);
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// `1*DIGIT` as a u64; overflow is 413 rather than a wrapped, smaller length (RFC 9110 §8.6).
fn parse_decimal(digits: &[u8]) -> Result<u64, Http1Error> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Http1Error::InvalidContentLength);
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(Http1Error::ContentTooLarge)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{parse_request, parse_response, Limits};
    use bytes::BytesMut;

    fn request(head: &str) -> Result<BodyKind, Http1Error> {
        parse_request(&mut BytesMut::from(head.as_bytes()), &Limits::default())
            .unwrap()
            .unwrap()
            .body_kind()
    }

    fn response(method: &str, head: &str) -> Result<BodyKind, Http1Error> {
        parse_response(&mut BytesMut::from(head.as_bytes()), &Limits::default())
            .unwrap()
            .unwrap()
            .body_kind(method.as_bytes())
    }

    #[test]
    fn request_without_framing_fields_has_no_body() {
        assert_eq!(request("POST / HTTP/1.1\r\n\r\n"), Ok(BodyKind::Empty));
    }

    #[test]
    fn request_content_length() {
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n"),
            Ok(BodyKind::ContentLength(42))
        );
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 42, 42\r\nContent-Length: 42\r\n\r\n"),
            Ok(BodyKind::ContentLength(42))
        );
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Ok(BodyKind::ContentLength(0))
        );
    }

    #[test]
    fn invalid_and_differing_content_lengths_are_rejected() {
        for bad in ["+1", "-1", "1 2", "0x10", "", "4,", "1e3"] {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(
                request(&head),
                Err(Http1Error::InvalidContentLength),
                "{bad:?}"
            );
        }
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(Http1Error::DifferingContentLengths)
        );
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n"),
            Err(Http1Error::DifferingContentLengths)
        );
        let huge = request("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n");
        assert_eq!(huge.map_err(|e| e.status()), Err(413));
        assert_eq!(
            request("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"),
            Ok(BodyKind::ContentLength(u64::MAX))
        );
    }

    #[test]
    fn request_transfer_encoding_must_be_exactly_chunked() {
        assert_eq!(
            request("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(BodyKind::Chunked)
        );
        for (te, status) in [
            ("chunked, identity", 400),
            ("identity", 400),
            ("gzip", 400),
            ("chunked, chunked", 400),
            (",", 400),
            ("gzip, chunked", 501),
        ] {
            let head = format!("POST / HTTP/1.1\r\nTransfer-Encoding: {te}\r\n\r\n");
            assert_eq!(request(&head).map_err(|e| e.status()), Err(status), "{te}");
        }
        assert_eq!(
            request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
            Err(Http1Error::ContentLengthWithTransferEncoding)
        );
        assert_eq!(
            request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(Http1Error::InvalidTransferEncoding)
        );
    }

    #[test]
    fn responses_without_a_body() {
        for (method, status) in [
            ("HEAD", 200),
            ("GET", 100),
            ("GET", 204),
            ("GET", 304),
            ("CONNECT", 200),
        ] {
            let head = format!("HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n");
            assert_eq!(
                response(method, &head),
                Ok(BodyKind::Empty),
                "{method} {status}"
            );
        }
        assert_eq!(
            response("CONNECT", "HTTP/1.1 407 X\r\nContent-Length: 10\r\n\r\n"),
            Ok(BodyKind::ContentLength(10))
        );
    }

    #[test]
    fn response_framing_prefers_chunked_then_length_then_close() {
        assert_eq!(
            response(
                "GET",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            Ok(BodyKind::Chunked)
        );
        assert_eq!(
            response("GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"),
            Ok(BodyKind::ContentLength(3))
        );
        assert_eq!(
            response("GET", "HTTP/1.1 200 OK\r\n\r\n"),
            Ok(BodyKind::CloseDelimited)
        );
        assert_eq!(
            response(
                "GET",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            ),
            Err(Http1Error::UnsupportedTransferEncoding)
        );
    }

    #[test]
    fn response_with_both_framings_does_not_keep_alive() {
        let head = parse_response(
            &mut BytesMut::from(
                &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            ),
            &Limits::default(),
        )
        .unwrap()
        .unwrap();
        assert!(!head.keep_alive());
    }
}
