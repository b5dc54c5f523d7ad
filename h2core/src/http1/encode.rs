//! Writing messages (RFC 9112 §3, §4, §6, §7.1): heads whose framing fields we choose, and
//! bodies framed to match, without copying body data.

use super::fields::{is_token, is_valid_value};
use super::{BodyKind, EncodeError};
use crate::hpack::Header;
use bytes::{BufMut, Bytes, BytesMut};

/// Writes a status line and header section (RFC 9112 §4, §5): `HTTP/1.1 <status> <reason>`
/// (`reason` defaults to the usual phrase), `headers`, then the framing field for `framing`:
/// `content-length` for [`BodyKind::ContentLength`], `transfer-encoding: chunked` for
/// [`BodyKind::Chunked`], none otherwise. Content-Length and Transfer-Encoding in `headers`
/// are skipped: the framing is the codec's, so that it cannot contradict the body.
///
/// Errors, with nothing written, for a status outside 100..=999, a reason with controls, or a
/// field that would break the framing (CR, LF, NUL; a name that is not a token).
pub fn encode_response_head(
    status: u16,
    reason: Option<&str>,
    headers: &[Header],
    framing: BodyKind,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let reason = reason.unwrap_or_else(|| canonical_reason(status));
    if !(100..=999).contains(&status) || !is_valid_value(reason.as_bytes()) {
        return Err(EncodeError::InvalidStartLine);
    }
    check_fields(headers)?;
    dst.put_slice(b"HTTP/1.1 ");
    dst.put_slice(status.to_string().as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(reason.as_bytes());
    dst.put_slice(b"\r\n");
    put_fields(headers, framing, dst);
    Ok(())
}

/// Writes a request line and header section (RFC 9112 §3, §5): `<method> <target> HTTP/1.1`,
/// `headers` (which should include `host`, RFC 9112 §3.2), then the framing field as
/// [`encode_response_head`] does. A request body cannot be close-delimited (the server could not
/// answer): [`EncodeError::CloseDelimitedRequest`].
pub fn encode_request_head(
    method: &str,
    target: &str,
    headers: &[Header],
    framing: BodyKind,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    if framing == BodyKind::CloseDelimited {
        return Err(EncodeError::CloseDelimitedRequest);
    }
    if !is_token(method.as_bytes())
        || target.is_empty()
        || !target.bytes().all(|c| c.is_ascii_graphic())
    {
        return Err(EncodeError::InvalidStartLine);
    }
    check_fields(headers)?;
    dst.put_slice(method.as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(target.as_bytes());
    dst.put_slice(b" HTTP/1.1\r\n");
    put_fields(headers, framing, dst);
    Ok(())
}

fn check_fields(headers: &[Header]) -> Result<(), EncodeError> {
    if headers
        .iter()
        .all(|h| is_token(&h.name) && is_valid_value(&h.value))
    {
        Ok(())
    } else {
        Err(EncodeError::InvalidField)
    }
}

fn put_field(name: &[u8], value: &[u8], dst: &mut BytesMut) {
    dst.put_slice(name);
    dst.put_slice(b": ");
    dst.put_slice(value);
    dst.put_slice(b"\r\n");
}

fn put_fields(headers: &[Header], framing: BodyKind, dst: &mut BytesMut) {
    for h in headers {
        if h.name.eq_ignore_ascii_case(b"content-length")
            || h.name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            continue;
        }
        put_field(&h.name, &h.value, dst);
    }
    match framing {
        BodyKind::ContentLength(n) => put_field(b"content-length", n.to_string().as_bytes(), dst),
        BodyKind::Chunked => put_field(b"transfer-encoding", b"chunked", dst),
        BodyKind::Empty | BodyKind::CloseDelimited => {}
    }
    dst.put_slice(b"\r\n");
}

/// The usual reason phrase of `status` (RFC 9110 §15), or "" (the phrase is optional,
/// RFC 9112 §4).
pub(crate) fn canonical_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Body data framed for the wire: write `prefix`, `data`, `suffix` in order (a vectored write
/// takes all three; `data` is the caller's buffer, never copied). Empty parts are empty `Bytes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedChunk {
    /// The chunk-size line (`<hex>\r\n`, RFC 9112 §7.1) for chunked bodies; empty otherwise.
    pub prefix: Bytes,
    /// The body data itself.
    pub data: Bytes,
    /// The CRLF after chunk-data for chunked bodies; empty otherwise.
    pub suffix: Bytes,
}

impl EncodedChunk {
    /// The bytes to write in all.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.data.len() + self.suffix.len()
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The non-empty parts, in write order.
    pub fn into_parts(self) -> impl Iterator<Item = Bytes> {
        [self.prefix, self.data, self.suffix]
            .into_iter()
            .filter(|b| !b.is_empty())
    }

    /// Copies all parts into `dst`, for writers without vectored writes.
    pub fn write_to(&self, dst: &mut BytesMut) {
        dst.put_slice(&self.prefix);
        dst.put_slice(&self.data);
        dst.put_slice(&self.suffix);
    }
}

/// Frames the body of a message we send, as announced by its head.
///
/// Whatever the framing, [`finish`](Self::finish) must be called once the body is complete:
/// for a chunked body it writes the last-chunk without which the peer waits forever, and for a
/// Content-Length body it checks the length was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyEncoder {
    state: EncState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EncState {
    Empty,
    Length(u64),
    Chunked,
    Close,
    Finished,
}

impl BodyEncoder {
    /// An encoder for a body delimited as `kind`.
    pub fn new(kind: BodyKind) -> BodyEncoder {
        let state = match kind {
            BodyKind::Empty => EncState::Empty,
            BodyKind::ContentLength(n) => EncState::Length(n),
            BodyKind::Chunked => EncState::Chunked,
            BodyKind::CloseDelimited => EncState::Close,
        };
        BodyEncoder { state }
    }

    /// Whether [`finish`](Self::finish) succeeded.
    pub fn is_finished(&self) -> bool {
        self.state == EncState::Finished
    }

    /// Whether the body is close-delimited: the connection must be closed after it, which is
    /// how the peer learns it ended (RFC 9112 §6.3 item 8).
    pub fn closes_connection(&self) -> bool {
        self.state == EncState::Close
    }

    /// Frames `data`.
    ///
    /// Chunked: `<hex size>\r\n` + data + `\r\n`; empty data gives an empty [`EncodedChunk`], as a
    /// zero-size chunk would end the body (RFC 9112 §7.1). Content-Length and close-delimited:
    /// the data as it is. Errors, with nothing to write: more than the Content-Length in all or
    /// any data for a body that has none ([`EncodeError::LengthExceeded`]), data after
    /// [`finish`](Self::finish).
    #[must_use = "the returned chunk must be written"]
    pub fn encode(&mut self, data: Bytes) -> Result<EncodedChunk, EncodeError> {
        match self.state {
            EncState::Finished => Err(EncodeError::AlreadyFinished),
            _ if data.is_empty() => Ok(EncodedChunk::default()),
            EncState::Empty => Err(EncodeError::LengthExceeded),
            EncState::Length(remaining) => {
                let left = remaining
                    .checked_sub(data.len() as u64)
                    .ok_or(EncodeError::LengthExceeded)?;
                self.state = EncState::Length(left);
                Ok(EncodedChunk {
                    data,
                    ..EncodedChunk::default()
                })
            }
            EncState::Chunked => Ok(EncodedChunk {
                prefix: Bytes::from(format!("{:x}\r\n", data.len())),
                data,
                suffix: Bytes::from_static(b"\r\n"),
            }),
            EncState::Close => Ok(EncodedChunk {
                data,
                ..EncodedChunk::default()
            }),
        }
    }

    /// Ends the body; returns what is left to write, if anything.
    ///
    /// Chunked: the last-chunk `0\r\n`, the trailer section (RFC 9112 §7.1.2) and the final
    /// `\r\n`. Any other framing cannot carry trailers, so they are dropped (RFC 9110 §6.5.1
    /// lets a recipient discard them anyway). Errors, leaving the encoder as it was:
    /// [`EncodeError::LengthShort`] while Content-Length octets are owed (the peer would wait
    /// for them: send them or close the connection), [`EncodeError::InvalidField`] for a trailer
    /// that would break the framing, [`EncodeError::AlreadyFinished`].
    #[must_use = "the returned bytes end the body and must be written"]
    pub fn finish(&mut self, trailers: Option<&[Header]>) -> Result<Option<Bytes>, EncodeError> {
        let end = match self.state {
            EncState::Finished => return Err(EncodeError::AlreadyFinished),
            EncState::Length(missing @ 1..) => return Err(EncodeError::LengthShort { missing }),
            EncState::Chunked => {
                let trailers = trailers.unwrap_or_default();
                check_fields(trailers)?;
                let mut end = BytesMut::with_capacity(5);
                end.put_slice(b"0\r\n");
                for h in trailers {
                    put_field(&h.name, &h.value, &mut end);
                }
                end.put_slice(b"\r\n");
                Some(end.freeze())
            }
            EncState::Empty | EncState::Length(_) | EncState::Close => None,
        };
        self.state = EncState::Finished;
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(chunk: EncodedChunk) -> Vec<u8> {
        let mut dst = BytesMut::new();
        chunk.write_to(&mut dst);
        dst.to_vec()
    }

    #[test]
    fn response_head_gets_the_framing_field_of_its_body() {
        let mut dst = BytesMut::new();
        let headers = [
            Header::new("content-type", "text/plain"),
            Header::new("content-length", "999"),
            Header::new("transfer-encoding", "gzip"),
        ];
        encode_response_head(200, None, &headers, BodyKind::ContentLength(5), &mut dst).unwrap();
        assert_eq!(
            &dst[..],
            b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n"
        );
        dst.clear();
        encode_response_head(299, Some("Fine"), &[], BodyKind::Chunked, &mut dst).unwrap();
        assert_eq!(
            &dst[..],
            b"HTTP/1.1 299 Fine\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        dst.clear();
        encode_response_head(599, None, &[], BodyKind::CloseDelimited, &mut dst).unwrap();
        assert_eq!(&dst[..], b"HTTP/1.1 599 \r\n\r\n");
    }

    #[test]
    fn fields_that_would_split_the_response_are_refused() {
        let mut dst = BytesMut::new();
        let injected = [Header::new("x", "a\r\nset-cookie: b")];
        assert_eq!(
            encode_response_head(200, None, &injected, BodyKind::Empty, &mut dst),
            Err(EncodeError::InvalidField)
        );
        let bad_name = [Header::new("x y", "a")];
        assert_eq!(
            encode_request_head("GET", "/", &bad_name, BodyKind::Empty, &mut dst),
            Err(EncodeError::InvalidField)
        );
        assert_eq!(
            encode_response_head(200, Some("OK\r\n"), &[], BodyKind::Empty, &mut dst),
            Err(EncodeError::InvalidStartLine)
        );
        assert_eq!(
            encode_response_head(1000, None, &[], BodyKind::Empty, &mut dst),
            Err(EncodeError::InvalidStartLine)
        );
        assert_eq!(
            encode_request_head("GET", "/a b", &[], BodyKind::Empty, &mut dst),
            Err(EncodeError::InvalidStartLine)
        );
        assert!(dst.is_empty());
    }

    #[test]
    fn request_head() {
        let mut dst = BytesMut::new();
        let headers = [Header::new("host", "example.com")];
        encode_request_head("POST", "/up", &headers, BodyKind::Chunked, &mut dst).unwrap();
        assert_eq!(
            &dst[..],
            b"POST /up HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        assert_eq!(
            encode_request_head("POST", "/", &[], BodyKind::CloseDelimited, &mut dst),
            Err(EncodeError::CloseDelimitedRequest)
        );
    }

    #[test]
    fn chunked_frames_data_without_copying_and_ends_with_the_last_chunk() {
        let mut enc = BodyEncoder::new(BodyKind::Chunked);
        let data = Bytes::from(vec![b'x'; 26]);
        let chunk = enc.encode(data.clone()).unwrap();
        assert_eq!(chunk.data.as_ptr(), data.as_ptr());
        assert_eq!(&chunk.prefix[..], b"1a\r\n");
        assert_eq!(&chunk.suffix[..], b"\r\n");
        assert_eq!(chunk.len(), 32);
        assert_eq!(chunk.clone().into_parts().count(), 3);
        assert!(enc.encode(Bytes::new()).unwrap().is_empty());
        let trailers = [Header::new("x-checksum", "abc")];
        let end = enc.finish(Some(&trailers)).unwrap().unwrap();
        assert_eq!(&end[..], b"0\r\nx-checksum: abc\r\n\r\n");
        assert!(enc.is_finished());
        assert_eq!(
            enc.encode(Bytes::from_static(b"late")),
            Err(EncodeError::AlreadyFinished)
        );
        assert_eq!(enc.finish(None), Err(EncodeError::AlreadyFinished));
    }

    #[test]
    fn chunked_without_trailers_ends_with_zero_crlf_crlf() {
        let mut enc = BodyEncoder::new(BodyKind::Chunked);
        assert_eq!(
            written(enc.encode(Bytes::from_static(b"hi")).unwrap()),
            b"2\r\nhi\r\n"
        );
        assert_eq!(&enc.finish(None).unwrap().unwrap()[..], b"0\r\n\r\n");
    }

    #[test]
    fn content_length_is_enforced_both_ways() {
        let mut enc = BodyEncoder::new(BodyKind::ContentLength(5));
        assert_eq!(
            written(enc.encode(Bytes::from_static(b"abc")).unwrap()),
            b"abc"
        );
        assert_eq!(
            enc.encode(Bytes::from_static(b"def")),
            Err(EncodeError::LengthExceeded)
        );
        assert_eq!(
            enc.finish(None),
            Err(EncodeError::LengthShort { missing: 2 })
        );
        assert!(!enc.encode(Bytes::from_static(b"de")).unwrap().is_empty());
        assert_eq!(enc.finish(Some(&[Header::new("dropped", "1")])), Ok(None));
    }

    #[test]
    fn no_body_means_no_data_and_close_delimited_closes() {
        let mut empty = BodyEncoder::new(BodyKind::Empty);
        assert_eq!(
            empty.encode(Bytes::from_static(b"x")),
            Err(EncodeError::LengthExceeded)
        );
        assert_eq!(empty.finish(None), Ok(None));
        let mut close = BodyEncoder::new(BodyKind::CloseDelimited);
        assert!(close.closes_connection());
        assert_eq!(
            written(close.encode(Bytes::from_static(b"x")).unwrap()),
            b"x"
        );
        assert_eq!(close.finish(None), Ok(None));
    }
}
