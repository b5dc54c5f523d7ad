//! The two HTTP/1.1 error families: the peer's faults ([`Http1Error`], answered with a status
//! and a close) and the caller's misuse ([`EncodeError`], nothing sent).

use bytes::{BufMut, BytesMut};
use std::fmt;

/// A message the peer got wrong (RFC 9112, RFC 9110). After any of these the connection cannot
/// be trusted to stay in sync with the peer's framing: answer [`status`](Http1Error::status) (a
/// server writes [`encode_response`](Http1Error::encode_response)) and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http1Error {
    /// The head exceeds [`Limits::max_head_size`](super::Limits) (RFC 9112 §2.3 lets us bound
    /// it): 431.
    HeadTooLarge,
    /// More field lines than [`Limits::max_headers`](super::Limits): 431.
    TooManyHeaders,
    /// The start line or a field line is not valid syntax (RFC 9112 §2.2, §3, §4, §5),
    /// including obs-fold in a request (§5.2): 400. The text comes from `httparse`.
    MalformedHead(&'static str),
    /// An HTTP version other than 1.0 or 1.1 (RFC 9112 §2.3): 505.
    UnsupportedVersion,
    /// A Content-Length that is not `1*DIGIT` (RFC 9110 §8.6, RFC 9112 §6.3 item 5): 400.
    InvalidContentLength,
    /// Content-Length lines or list members that differ (RFC 9110 §8.6, RFC 9112 §6.3 item 5):
    /// 400.
    DifferingContentLengths,
    /// A request with both Transfer-Encoding and Content-Length, a classic request smuggling
    /// vector that RFC 9112 §6.1 allows a server to reject, and we do: 400.
    ContentLengthWithTransferEncoding,
    /// A request whose Transfer-Encoding does not end in `chunked` (RFC 9112 §6.3 item 4: the
    /// server MUST answer 400 and close), that applies `chunked` twice (§6.1), or any
    /// Transfer-Encoding in an HTTP/1.0 message (§6.1: faulty framing): 400.
    InvalidTransferEncoding,
    /// A transfer coding other than `chunked` that we do not implement (e.g. `gzip, chunked`):
    /// 501 (RFC 9112 §6.1).
    UnsupportedTransferEncoding,
    /// An HTTP/1.1 request without Host, or any request with more than one Host line or an
    /// invalid Host value (RFC 9112 §3.2): 400.
    InvalidHost,
    /// A request-target whose form does not fit the method (RFC 9112 §3.2), or an absolute-form
    /// target with userinfo (RFC 9110 §4.2.4): 400.
    InvalidTarget,
    /// A bad chunk-size line, a missing CRLF after chunk data, or a bad trailer section
    /// (RFC 9112 §7.1): 400.
    InvalidChunk(&'static str),
    /// The trailer section exceeds [`Limits::max_head_size`](super::Limits): 431.
    TrailersTooLarge,
    /// A Content-Length or chunk-size beyond 64 bits (RFC 9110 §8.6 asks recipients to guard
    /// against overflow): 413.
    ContentTooLarge,
    /// The peer closed the connection before the body it announced was complete: a body shorter
    /// than its Content-Length, or a chunked body without its last chunk (RFC 9112 §8): 400.
    IncompleteBody,
}

impl Http1Error {
    /// The status a server answers with before closing (RFC 9110 §15).
    pub fn status(&self) -> u16 {
        match self {
            Http1Error::HeadTooLarge
            | Http1Error::TooManyHeaders
            | Http1Error::TrailersTooLarge => 431,
            Http1Error::UnsupportedVersion => 505,
            Http1Error::UnsupportedTransferEncoding => 501,
            Http1Error::ContentTooLarge => 413,
            Http1Error::MalformedHead(_)
            | Http1Error::InvalidContentLength
            | Http1Error::DifferingContentLengths
            | Http1Error::ContentLengthWithTransferEncoding
            | Http1Error::InvalidTransferEncoding
            | Http1Error::InvalidHost
            | Http1Error::InvalidTarget
            | Http1Error::InvalidChunk(_)
            | Http1Error::IncompleteBody => 400,
        }
    }

    /// Writes the whole error response: `HTTP/1.1 <status> <reason>`, `content-length: 0` and
    /// `connection: close` (RFC 9112 §9.6: the server closes after it).
    pub fn encode_response(&self, dst: &mut BytesMut) {
        let status = self.status();
        dst.put_slice(b"HTTP/1.1 ");
        dst.put_slice(status.to_string().as_bytes());
        dst.put_u8(b' ');
        dst.put_slice(super::encode::canonical_reason(status).as_bytes());
        dst.put_slice(b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }

    pub(crate) fn from_httparse(e: httparse::Error) -> Http1Error {
        match e {
            httparse::Error::TooManyHeaders => Http1Error::TooManyHeaders,
            httparse::Error::Version => Http1Error::UnsupportedVersion,
            httparse::Error::HeaderName => Http1Error::MalformedHead("invalid header name"),
            httparse::Error::HeaderValue => Http1Error::MalformedHead("invalid header value"),
            httparse::Error::NewLine => Http1Error::MalformedHead("invalid new line"),
            httparse::Error::Status => Http1Error::MalformedHead("invalid response status"),
            httparse::Error::Token => Http1Error::MalformedHead("invalid token"),
        }
    }
}

impl fmt::Display for Http1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Http1Error::HeadTooLarge => "message head too large",
            Http1Error::TooManyHeaders => "too many header fields",
            Http1Error::MalformedHead(why) => why,
            Http1Error::UnsupportedVersion => "unsupported HTTP version",
            Http1Error::InvalidContentLength => "invalid content-length",
            Http1Error::DifferingContentLengths => "differing content-length values",
            Http1Error::ContentLengthWithTransferEncoding => {
                "both transfer-encoding and content-length"
            }
            Http1Error::InvalidTransferEncoding => "invalid transfer-encoding",
            Http1Error::UnsupportedTransferEncoding => "unsupported transfer coding",
            Http1Error::InvalidHost => "missing, repeated or invalid host",
            Http1Error::InvalidTarget => "invalid request-target",
            Http1Error::InvalidChunk(why) => why,
            Http1Error::TrailersTooLarge => "trailer section too large",
            Http1Error::ContentTooLarge => "content length beyond 64 bits",
            Http1Error::IncompleteBody => "connection closed before the end of the body",
        };
        write!(f, "HTTP/1.1 error {}: {}", self.status(), text)
    }
}

impl std::error::Error for Http1Error {}

/// The caller asked for something the HTTP/1.1 codec cannot put on the wire. Nothing was
/// written for the call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// A field name that is not a token, or a value with CR, LF or NUL (RFC 9110 §5.5): writing
    /// it would let the value inject fields or a whole response (response splitting).
    InvalidField,
    /// A method that is not a token, a request-target with whitespace or controls, a status
    /// outside 100..=999, or a reason phrase with CR or LF (RFC 9112 §3, §4).
    InvalidStartLine,
    /// More body than the Content-Length announced, or a body where the message has none
    /// (HEAD-less 204/304, CONNECT 2xx, RFC 9110 §6.4.1).
    LengthExceeded,
    /// The body ended before the Content-Length announced: the peer would wait forever, so the
    /// connection must be closed.
    LengthShort {
        /// Bytes still owed.
        missing: u64,
    },
    /// Data or trailers after the body was finished.
    AlreadyFinished,
    /// A [`ServerConn`](super::ServerConn) verb in the wrong state, e.g. a response head with no
    /// request to answer, or twice.
    OutOfOrder,
    /// A close-delimited request body, which the server could not tell from a closed connection
    /// (RFC 9112 §6.3 item 7 applies to responses only).
    CloseDelimitedRequest,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::InvalidField => f.write_str("invalid field name or value"),
            EncodeError::InvalidStartLine => f.write_str("invalid start line"),
            EncodeError::LengthExceeded => f.write_str("body longer than announced"),
            EncodeError::LengthShort { missing } => {
                write!(f, "body ended {missing} bytes short of its content-length")
            }
            EncodeError::AlreadyFinished => f.write_str("body already finished"),
            EncodeError::OutOfOrder => f.write_str("call out of order"),
            EncodeError::CloseDelimitedRequest => {
                f.write_str("request body cannot be close-delimited")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
