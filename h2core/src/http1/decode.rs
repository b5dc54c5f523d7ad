//! Reading a message body (RFC 9112 §6, §7.1): Content-Length, chunked with its trailer
//! section, or close-delimited, zero-copy out of the receive buffer.

use super::fields;
use super::{BodyKind, Http1Error, Limits};
use crate::hpack::Header;
use bytes::{Bytes, BytesMut};

/// The longest chunk-size line we buffer, chunk extensions included (RFC 9112 §7.1.1 lets a
/// recipient limit them). Real peers send a few hex digits.
const MAX_CHUNK_LINE: usize = 4096;

/// What the next part of a body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEvent {
    /// Body octets, a slice of the receive buffer. Never empty.
    Data(Bytes),
    /// The trailer section of a chunked body (RFC 9112 §7.1.2), names lowercased. Only sent when
    /// not empty; [`BodyEvent::End`] follows.
    Trailers(Vec<Header>),
    /// The body is complete; bytes left in the buffer belong to the next message.
    End,
}

/// Reads one message body from the front of a receive buffer.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Content-Length, with this many octets still to come.
    Length(u64),
    /// Chunked: at a chunk-size line (§7.1).
    ChunkSize,
    /// Chunked: inside chunk-data with this many octets still to come.
    ChunkData(u64),
    /// Chunked: at the CRLF that ends chunk-data.
    ChunkDataEnd,
    /// Chunked: after the last-chunk, at the trailer section (§7.1.2).
    Trailers,
    /// Until the connection closes.
    Close,
    /// The body is complete.
    Done,
}

impl BodyDecoder {
    /// A decoder for a body delimited as `kind`; the trailer section of a chunked body is bounded
    /// by `limits` like a head.
    pub fn new(kind: BodyKind, limits: &Limits) -> BodyDecoder {
        let state = match kind {
            BodyKind::Empty => State::Done,
            BodyKind::ContentLength(n) => State::Length(n),
            BodyKind::Chunked => State::ChunkSize,
            BodyKind::CloseDelimited => State::Close,
        };
        BodyDecoder {
            state,
            limits: *limits,
        }
    }

    /// Whether the body is complete ([`BodyEvent::End`] is all that is left).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads the next part of the body from the front of `buf`.
    ///
    /// - `Ok(None)`: more bytes are needed (what was consumed so far, e.g. a chunk-size line, is
    ///   remembered).
    /// - `Ok(Some(event))`: `Data` was split off `buf` without copying; after `End` (returned
    ///   again on every later call) `buf` holds only what follows the body.
    /// - `Err(_)`: a chunked framing error (RFC 9112 §7.1); the connection must close.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<BodyEvent>, Http1Error> {
        loop {
            match self.state {
                State::Done => return Ok(Some(BodyEvent::End)),
                State::Length(0) => self.state = State::Done,
                State::Length(remaining) => {
                    let Some(data) = split_data(buf, remaining) else {
                        return Ok(None);
                    };
                    self.state = State::Length(remaining - data.len() as u64);
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::Close => {
                    let Some(data) = split_data(buf, u64::MAX) else {
                        return Ok(None);
                    };
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::ChunkSize => {
                    let Some((len, size)) = chunk_size_line(buf)? else {
                        return Ok(None);
                    };
                    let _ = buf.split_to(len);
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkData(remaining) => {
                    let Some(data) = split_data(buf, remaining) else {
                        return Ok(None);
                    };
                    let left = remaining - data.len() as u64;
                    self.state = if left == 0 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(left)
                    };
                    return Ok(Some(BodyEvent::Data(data)));
                }
                State::ChunkDataEnd => {
                    // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (§7.1)
                    match &buf[..buf.len().min(2)] {
                        b"\r\n" => {
                            let _ = buf.split_to(2);
                            self.state = State::ChunkSize;
                        }
                        [] | b"\r" => return Ok(None),
                        _ => {
                            return Err(Http1Error::InvalidChunk("chunk-data not followed by CRLF"))
                        }
                    }
                }
                State::Trailers => {
                    let Some(trailers) = self.trailer_section(buf)? else {
                        return Ok(None);
                    };
                    self.state = State::Done;
                    if !trailers.is_empty() {
                        return Ok(Some(BodyEvent::Trailers(trailers)));
                    }
                }
            }
        }
    }

    /// The peer closed the connection (after every byte it sent went through
    /// [`decode`](Self::decode)).
    ///
    /// A close-delimited body ends here (RFC 9112 §6.3 item 8): `End`. A body shorter than its
    /// Content-Length or a chunked body without its last-chunk and final CRLF is incomplete
    /// (RFC 9112 §8): [`Http1Error::IncompleteBody`], so the handler sees an error rather than
    /// a truncated body that looks whole, or a read that never returns.
    pub fn eof(&mut self) -> Result<Option<BodyEvent>, Http1Error> {
        match self.state {
            State::Done | State::Length(0) | State::Close => {
                self.state = State::Done;
                Ok(Some(BodyEvent::End))
            }
            _ => Err(Http1Error::IncompleteBody),
        }
    }

    /// Parses the trailer section (§7.1.2: `*( field-line CRLF ) CRLF`) with `httparse`.
    fn trailer_section(&self, buf: &mut BytesMut) -> Result<Option<Vec<Header>>, Http1Error> {
        let parsed = fields::with_slots(self.limits.max_headers, |slots| {
            // Complete lines within the limit, as for a head: the same outcome however the
            // section arrived.
            let base = super::head::head_window(buf, &self.limits);
            match httparse::parse_headers(base, slots) {
                Ok(httparse::Status::Complete((len, parsed))) => {
                    Ok(Some((len, fields::field_ranges(base, parsed))))
                }
                Ok(httparse::Status::Partial) => Ok(None),
                Err(httparse::Error::TooManyHeaders) => Err(Http1Error::TooManyHeaders),
                Err(_) => Err(Http1Error::InvalidChunk("invalid trailer section")),
            }
        })?;
        let Some((len, ranges)) = parsed else {
            return if buf.len() > self.limits.max_head_size {
                Err(Http1Error::TrailersTooLarge)
            } else {
                Ok(None)
            };
        };
        Ok(Some(fields::freeze_fields(buf, len, &ranges).1))
    }
}

/// Up to `max` octets off the front of `buf`, or `None` when it is empty.
fn split_data(buf: &mut BytesMut, max: u64) -> Option<Bytes> {
    if buf.is_empty() {
        return None;
    }
    let n = usize::try_from(max).map_or(buf.len(), |max| max.min(buf.len()));
    Some(buf.split_to(n).freeze())
}

/// Reads `chunk-size [ chunk-ext ] CRLF` (RFC 9112 §7.1, §7.1.1): the line's length and the
/// size, or `None` when the line is not complete. `httparse` reads the size and skips the
/// extensions; around it we insist on what keeps two parsers from disagreeing about where a
/// chunk starts: at least one hex digit, a CRLF (not a bare LF) at the end, no control
/// characters inside, and a bounded length.
///
/// A bad line is reported as soon as the bytes so far show it (not after buffering the whole
/// line), and with the same error however the line arrived: every check below holds of each
/// prefix of a good line, so the error does not depend on where TCP cut the input.
fn chunk_size_line(buf: &[u8]) -> Result<Option<(usize, u64)>, Http1Error> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if !first.is_ascii_hexdigit() {
        return Err(Http1Error::InvalidChunk("chunk-size is not hexadecimal"));
    }
    let window = &buf[..buf.len().min(MAX_CHUNK_LINE)];
    let lf = window.iter().position(|&c| c == b'\n');
    let line = lf.map_or(window, |lf| &window[..=lf]);
    // Before the LF: no control character, but for one CR, right before the LF (or last so
    // far, when the LF may come next).
    let content = lf.map_or(line, |lf| &line[..lf]);
    let bad = content.iter().enumerate().any(|(i, &c)| {
        let cr_before_lf = c == b'\r' && i + 1 == content.len();
        c != b'\t' && (c < 0x20 || c == 0x7f) && !cr_before_lf
    });
    let crlf = lf.is_none_or(|lf| lf > 0 && line[lf - 1] == b'\r');
    if bad || !crlf {
        return Err(chunk_size_error(line));
    }
    match (lf, httparse::parse_chunk_size(line)) {
        (Some(_), Ok(httparse::Status::Complete((len, size)))) if len == line.len() => {
            Ok(Some((len, size)))
        }
        (None, Ok(httparse::Status::Partial)) if buf.len() < MAX_CHUNK_LINE => Ok(None),
        (None, Ok(httparse::Status::Partial)) => {
            Err(Http1Error::InvalidChunk("chunk-size line too long"))
        }
        _ => Err(chunk_size_error(line)),
    }
}

/// Tells a chunk-size too large for 64 bits (413) from a malformed line (400).
fn chunk_size_error(line: &[u8]) -> Http1Error {
    let digits = line.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if digits > 16 {
        Http1Error::ContentTooLarge
    } else {
        Http1Error::InvalidChunk("invalid chunk-size line")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked() -> BodyDecoder {
        BodyDecoder::new(BodyKind::Chunked, &Limits::default())
    }

    /// Decodes `input` given whole; returns the events up to `End` and what is left.
    fn decode_all(
        mut decoder: BodyDecoder,
        input: &[u8],
    ) -> Result<(Vec<BodyEvent>, BytesMut), Http1Error> {
        let mut buf = BytesMut::from(input);
        let mut events = Vec::new();
        while let Some(event) = decoder.decode(&mut buf)? {
            let end = event == BodyEvent::End;
            events.push(event);
            if end {
                break;
            }
        }
        Ok((events, buf))
    }

    #[test]
    fn content_length_body_stops_at_its_length() {
        let decoder = BodyDecoder::new(BodyKind::ContentLength(5), &Limits::default());
        let (events, rest) = decode_all(decoder, b"helloGET /").unwrap();
        assert_eq!(
            events,
            [
                BodyEvent::Data(Bytes::from_static(b"hello")),
                BodyEvent::End
            ]
        );
        assert_eq!(&rest[..], b"GET /");
    }

    #[test]
    fn empty_body_ends_at_once_and_stays_ended() {
        let mut decoder = BodyDecoder::new(BodyKind::Empty, &Limits::default());
        let mut buf = BytesMut::from(&b"next"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(BodyEvent::End)));
        assert_eq!(decoder.decode(&mut buf), Ok(Some(BodyEvent::End)));
        assert_eq!(decoder.eof(), Ok(Some(BodyEvent::End)));
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn chunk_data_is_a_slice_of_the_receive_buffer() {
        let mut buf = BytesMut::from(&b"5\r\nhello\r\n0\r\n\r\n"[..]);
        let start = buf.as_ptr() as usize;
        let mut decoder = chunked();
        let Ok(Some(BodyEvent::Data(data))) = decoder.decode(&mut buf) else {
            panic!("no data");
        };
        assert_eq!(data.as_ptr() as usize, start + 3);
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let input =
            b"4;name=value\r\nWiki\r\n5 ; a=\"q\"\r\npedia\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\nrest";
        let (events, rest) = decode_all(chunked(), input).unwrap();
        assert_eq!(
            events,
            [
                BodyEvent::Data(Bytes::from_static(b"Wiki")),
                BodyEvent::Data(Bytes::from_static(b"pedia")),
                BodyEvent::Trailers(vec![
                    Header::new("expires", "never"),
                    Header::new("x-sum", "1")
                ]),
                BodyEvent::End
            ]
        );
        assert_eq!(&rest[..], b"rest");
    }

    #[test]
    fn malformed_chunk_lines_are_rejected() {
        for bad in [
            &b"\r\n"[..],
            b";ext\r\n",
            b"x\r\n",
            b"5\nhello\r\n",
            b"5;a\nb\r\nhello\r\n",
            b"5 6\r\n",
            b"5\r\nhelloXY0\r\n\r\n",
            b"-1\r\n",
            b"5;\x01\r\n",
        ] {
            assert!(
                matches!(decode_all(chunked(), bad), Err(Http1Error::InvalidChunk(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn chunk_size_beyond_64_bits_is_413() {
        let err = decode_all(chunked(), b"10000000000000000\r\n").unwrap_err();
        assert_eq!(err.status(), 413);
        let err = decode_all(chunked(), b"10000000000000000").unwrap_err();
        assert_eq!(err, Http1Error::ContentTooLarge);
    }

    #[test]
    fn chunk_size_line_is_bounded() {
        let mut line = b"1;".to_vec();
        line.resize(MAX_CHUNK_LINE, b'a');
        assert!(matches!(
            decode_all(chunked(), &line),
            Err(Http1Error::InvalidChunk(_))
        ));
    }

    #[test]
    fn trailer_section_is_bounded() {
        let limits = Limits {
            max_head_size: 16,
            max_headers: 2,
        };
        let big = BodyDecoder::new(BodyKind::Chunked, &limits);
        assert_eq!(
            decode_all(big, b"0\r\nX-Long: aaaaaaaaaaaaaaaaaaaa").unwrap_err(),
            Http1Error::TrailersTooLarge
        );
        // Too many fields within the size limit; past it, the size is what the section broke
        // first as its bytes arrived, so that is the error whether it came whole or not.
        let roomy = Limits {
            max_head_size: 64,
            max_headers: 2,
        };
        let many = BodyDecoder::new(BodyKind::Chunked, &roomy);
        assert_eq!(
            decode_all(many, b"0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n").unwrap_err(),
            Http1Error::TooManyHeaders
        );
        let many_and_long = BodyDecoder::new(BodyKind::Chunked, &limits);
        assert_eq!(
            decode_all(many_and_long, b"0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n").unwrap_err(),
            Http1Error::TrailersTooLarge
        );
    }

    #[test]
    fn eof_ends_only_complete_or_close_delimited_bodies() {
        let mut close = BodyDecoder::new(BodyKind::CloseDelimited, &Limits::default());
        let mut buf = BytesMut::from(&b"all of it"[..]);
        assert_eq!(
            close.decode(&mut buf),
            Ok(Some(BodyEvent::Data(Bytes::from_static(b"all of it"))))
        );
        assert_eq!(close.decode(&mut buf), Ok(None));
        assert_eq!(close.eof(), Ok(Some(BodyEvent::End)));

        let mut short = BodyDecoder::new(BodyKind::ContentLength(10), &Limits::default());
        let _ = short.decode(&mut BytesMut::from(&b"12345"[..]));
        assert_eq!(short.eof(), Err(Http1Error::IncompleteBody));

        let mut truncated = chunked();
        let _ = truncated.decode(&mut BytesMut::from(&b"5\r\nhello\r\n"[..]));
        assert_eq!(truncated.eof(), Err(Http1Error::IncompleteBody));

        let mut no_final_crlf = chunked();
        let mut buf = BytesMut::from(&b"0\r\n"[..]);
        assert_eq!(no_final_crlf.decode(&mut buf), Ok(None));
        assert_eq!(no_final_crlf.eof(), Err(Http1Error::IncompleteBody));
    }
}
