//! Message heads: the start line and header section (RFC 9112 §2.1, §3, §4, §5), parsed by
//! `httparse` without copying.

use super::fields::{self, FieldRanges};
use super::{Http1Error, Limits, Version};
use crate::hpack::Header;
use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// A request's head (RFC 9112 §3, §5).
///
/// Every `Bytes` here is a slice of the received head: parsing copies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method token, case-sensitive (RFC 9110 §9.1).
    pub method: Bytes,
    /// The request-target as sent (RFC 9112 §3.2): origin-, absolute-, authority- or
    /// asterisk-form.
    pub target: Bytes,
    /// The protocol version of the request line.
    pub version: Version,
    /// The field lines in order, names lowercased, values without surrounding whitespace.
    pub headers: Vec<Header>,
}

/// A response's head (RFC 9112 §4, §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The protocol version of the status line.
    pub version: Version,
    /// The three-digit status code (RFC 9110 §15).
    pub status: u16,
    /// The reason phrase, possibly empty; it carries no meaning (RFC 9112 §4).
    pub reason: Bytes,
    /// The field lines in order, names lowercased, values without surrounding whitespace.
    pub headers: Vec<Header>,
}

/// Parses a request head from the front of `buf` (RFC 9112 §2.2, §3).
///
/// - `Ok(None)`: the head is not complete yet; `buf` is untouched.
/// - `Ok(Some(head))`: the head (including any empty lines before it, which RFC 9112 §2.2 lets
///   a server ignore) was split off `buf`; what follows (body, pipelined requests) stays.
/// - `Err(_)`: the peer sent something a server must answer with [`Http1Error::status`] and then
///   close; `buf` is untouched. A head still incomplete past [`Limits::max_head_size`] is
///   [`Http1Error::HeadTooLarge`].
///
/// Obsolete line folding is rejected (RFC 9112 §5.2 allows a 400). Framing problems
/// (Transfer-Encoding, Content-Length) are found by [`RequestHead::body_kind`].
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<RequestHead>, Http1Error> {
    let parsed = fields::with_slots(limits.max_headers, |slots| {
        let base = head_window(buf, limits);
        let mut req = httparse::Request::new(slots);
        let len = match req.parse(base) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(Http1Error::from_httparse(e)),
        };
        let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
            return Err(Http1Error::MalformedHead("incomplete request line"));
        };
        Ok(Some(RequestLine {
            len,
            method: fields::range_in(base, method.as_bytes()),
            target: fields::range_in(base, target.as_bytes()),
            version: version(minor)?,
            fields: fields::field_ranges(base, req.headers),
        }))
    })?;
    let Some(line) = parsed else {
        return if buf.len() > limits.max_head_size {
            Err(Http1Error::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let (head, headers) = fields::freeze_fields(buf, line.len, &line.fields);
    Ok(Some(RequestHead {
        method: head.slice(line.method),
        target: head.slice(line.target),
        version: line.version,
        headers,
    }))
}

/// What of the receive buffer a head (or a trailer section) is parsed from: its complete lines within the first
/// `max_head_size` bytes. The outcome then does not depend on how the bytes arrived: a line is
/// judged once its LF is here (an error inside an incomplete line is found when it completes,
/// whether the line came whole or byte by byte), and a head too large is `HeadTooLarge`
/// however it arrived, never an error found further on.
pub(super) fn head_window<'a>(buf: &'a [u8], limits: &Limits) -> &'a [u8] {
    let window = &buf[..buf.len().min(limits.max_head_size)];
    match window.iter().rposition(|&b| b == b'\n') {
        Some(last_lf) => &window[..=last_lf],
        None => &[],
    }
}

/// Parses a response head from the front of `buf` (RFC 9112 §2.2, §4); the client's side of
/// [`parse_request`], with the same results and limits.
///
/// Interim (1xx) responses are returned like any other; the client reads the next head after
/// them (RFC 9110 §15.2).
pub fn parse_response(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<ResponseHead>, Http1Error> {
    let parsed = fields::with_slots(limits.max_headers, |slots| {
        let base = head_window(buf, limits);
        let mut res = httparse::Response::new(slots);
        let len = match res.parse(base) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(Http1Error::from_httparse(e)),
        };
        let (Some(minor), Some(status)) = (res.version, res.code) else {
            return Err(Http1Error::MalformedHead("incomplete status line"));
        };
        if status < 100 {
            return Err(Http1Error::MalformedHead("invalid response status"));
        }
        Ok(Some(StatusLine {
            len,
            version: version(minor)?,
            status,
            reason: fields::range_in(base, res.reason.unwrap_or("").as_bytes()),
            fields: fields::field_ranges(base, res.headers),
        }))
    })?;
    let Some(line) = parsed else {
        return if buf.len() > limits.max_head_size {
            Err(Http1Error::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let (head, headers) = fields::freeze_fields(buf, line.len, &line.fields);
    Ok(Some(ResponseHead {
        version: line.version,
        status: line.status,
        reason: head.slice(line.reason),
        headers,
    }))
}

struct RequestLine {
    len: usize,
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
    fields: FieldRanges,
}

struct StatusLine {
    len: usize,
    version: Version,
    status: u16,
    reason: Range<usize>,
    fields: FieldRanges,
}

fn version(minor: u8) -> Result<Version, Http1Error> {
    match minor {
        0 => Ok(Version::Http10),
        1 => Ok(Version::Http11),
        _ => Err(Http1Error::UnsupportedVersion),
    }
}

/// RFC 9112 §9.3: `close` in Connection ends the connection after this message; otherwise
/// HTTP/1.1 persists and HTTP/1.0 persists only with `keep-alive` (RFC 9112 §C.2.2).
fn keep_alive(version: Version, headers: &[Header]) -> bool {
    if fields::has_token(headers, b"connection", b"close") {
        return false;
    }
    match version {
        Version::Http11 => true,
        Version::Http10 => fields::has_token(headers, b"connection", b"keep-alive"),
    }
}

fn first_value<'a>(headers: &'a [Header], name: &str) -> Option<&'a Bytes> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|h| &h.value)
}

impl RequestHead {
    /// Whether the method is `method` (methods are case-sensitive, RFC 9110 §9.1).
    pub fn method_is(&self, method: &str) -> bool {
        self.method == method.as_bytes()
    }

    /// The first value of field `name` (give it lowercase).
    pub fn header(&self, name: &str) -> Option<&Bytes> {
        first_value(&self.headers, name)
    }

    /// Whether the client wants the connection to persist after this exchange (RFC 9112 §9.3).
    /// The server may still close; a body it could not delimit or skip forces it to.
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }

    /// Whether the client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1):
    /// an HTTP/1.1 request with `Expect: 100-continue` (an HTTP/1.0 one's is ignored, as the
    /// RFC requires).
    pub fn expects_continue(&self) -> bool {
        self.version == Version::Http11
            && fields::has_token(&self.headers, b"expect", b"100-continue")
    }
}

impl ResponseHead {
    /// The first value of field `name` (give it lowercase).
    pub fn header(&self, name: &str) -> Option<&Bytes> {
        first_value(&self.headers, name)
    }

    /// Whether the server lets the connection persist after this response (RFC 9112 §9.3). A
    /// close-delimited body ([`BodyKind::CloseDelimited`](super::BodyKind)) or a response
    /// with both Transfer-Encoding and Content-Length (RFC 9112 §6.3 item 3) ends it anyway.
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
            && !(fields::count(&self.headers, b"transfer-encoding") > 0
                && fields::count(&self.headers, b"content-length") > 0)
    }

    /// Whether this is an interim response (1xx, RFC 9110 §15.2) after which the final
    /// response follows. 101 is not: it ends HTTP/1.1 on the connection.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Option<RequestHead>, Http1Error> {
        parse_request(&mut BytesMut::from(bytes), &Limits::default())
    }

    #[test]
    fn request_head_is_split_off_and_names_lowercased() {
        let mut buf = BytesMut::from(&b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-Y:  z \r\n\r\nbody"[..]);
        let head = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/a?b");
        assert_eq!(head.version, Version::Http11);
        assert_eq!(
            head.headers,
            vec![Header::new("host", "x"), Header::new("x-y", "z")]
        );
        assert_eq!(&buf[..], b"body");
    }

    #[test]
    fn empty_lines_before_the_request_line_are_ignored() {
        let head = parse(b"\r\n\r\nGET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.version, Version::Http10);
    }

    #[test]
    fn partial_head_leaves_the_buffer_untouched() {
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
        assert_eq!(parse_request(&mut buf, &Limits::default()), Ok(None));
        assert_eq!(buf.len(), 25);
    }

    #[test]
    fn head_over_the_limit_is_431() {
        let limits = Limits {
            max_head_size: 32,
            max_headers: 4,
        };
        let mut partial = BytesMut::from(&b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaa"[..]);
        let err = parse_request(&mut partial, &limits).unwrap_err();
        assert_eq!((err, err.status()), (Http1Error::HeadTooLarge, 431));
        let mut complete =
            BytesMut::from(&b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n"[..]);
        assert_eq!(
            parse_request(&mut complete, &limits),
            Err(Http1Error::HeadTooLarge)
        );
        let mut many = BytesMut::from(&b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n"[..]);
        let few = Limits {
            max_head_size: 1024,
            max_headers: 2,
        };
        assert_eq!(
            parse_request(&mut many, &few),
            Err(Http1Error::TooManyHeaders)
        );
        // Too many fields beyond the size limit: the size is what the head broke first as its
        // bytes arrived, so that is the error whether it arrives whole or byte by byte.
        let head =
            b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaa\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        let tight = Limits {
            max_head_size: 32,
            max_headers: 2,
        };
        assert_eq!(
            parse_request(&mut BytesMut::from(&head[..]), &tight),
            Err(Http1Error::HeadTooLarge)
        );
        let mut buf = BytesMut::new();
        let byte_by_byte = head.iter().find_map(|&b| {
            buf.extend_from_slice(&[b]);
            parse_request(&mut buf, &tight).err()
        });
        assert_eq!(byte_by_byte, Some(Http1Error::HeadTooLarge));
    }

    #[test]
    fn more_headers_than_the_stack_slots_use_the_heap() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            head.extend_from_slice(format!("x-{i}: {i}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let limits = Limits {
            max_head_size: 64 * 1024,
            max_headers: 300,
        };
        let parsed = parse_request(&mut BytesMut::from(&head[..]), &limits)
            .unwrap()
            .unwrap();
        assert_eq!(parsed.headers.len(), 200);
    }

    #[test]
    fn obs_fold_and_bad_versions_are_rejected() {
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),
            Err(Http1Error::MalformedHead(_))
        ));
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\n\r\n").map_err(|e| e.status()),
            Err(505)
        );
        assert!(parse(b"GET  / HTTP/1.1\r\n\r\n").is_err());
    }

    #[test]
    fn response_head_with_and_without_reason() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"[..]);
        let head = parse_response(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((head.status, &head.reason[..]), (404, &b"Not Found"[..]));
        assert_eq!(head.headers, vec![Header::new("content-length", "0")]);
        let mut bare = BytesMut::from(&b"HTTP/1.0 200\r\n\r\n"[..]);
        let head = parse_response(&mut bare, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((head.version, head.status), (Version::Http10, 200));
        assert!(head.reason.is_empty());
        let mut zero = BytesMut::from(&b"HTTP/1.1 099 X\r\n\r\n"[..]);
        assert!(parse_response(&mut zero, &Limits::default()).is_err());
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        let ka = |b: &[u8]| parse(b).unwrap().unwrap().keep_alive();
        assert!(ka(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
        ));
    }

    #[test]
    fn expect_continue_only_for_http11() {
        let ec = |b: &[u8]| parse(b).unwrap().unwrap().expects_continue();
        assert!(ec(b"PUT / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n"));
        assert!(!ec(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
        assert!(!ec(b"PUT / HTTP/1.1\r\n\r\n"));
    }
}
