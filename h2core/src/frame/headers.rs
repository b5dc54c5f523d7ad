//! Frames that carry a field block (RFC 9113 §4.3): HEADERS (§6.2), PUSH_PROMISE (§6.6) and
//! CONTINUATION (§6.10).
//!
//! The field block fragments are kept as encoded: decoding them (HPACK) and checking that
//! CONTINUATION follows without interruption need connection state and happen there.

use super::data::{padding_overhead, put_padding, strip_padding};
use super::priority::check_not_self_dependent;
use super::{head::read_u32, FrameType, Head, PrioritySpec, StreamId, HEADER_LEN};
use crate::{ProtocolError, Reason};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// RFC 9113 §6.2 HEADERS: opens a stream and carries the first fragment of a field block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// `Some`: PRIORITY flag, with the (deprecated) RFC 7540 priority fields.
    pub priority: Option<PrioritySpec>,
    /// The field block fragment, HPACK-encoded; on receipt a slice of the frame read.
    pub header_block: Bytes,
    /// END_STREAM flag: the field block is the last the sender sends on this stream.
    pub end_stream: bool,
    /// END_HEADERS flag: no CONTINUATION follows.
    pub end_headers: bool,
    /// `Some(n)`: PADDED flag, with `n` bytes of padding after the fragment (§6.2).
    pub pad_len: Option<u8>,
}

impl Headers {
    /// RFC 9113 §6.2: a HEADERS frame carrying a whole field block (END_HEADERS set), without END_STREAM,
    /// priority or padding.
    pub fn new(stream_id: StreamId, header_block: Bytes) -> Headers {
        Headers {
            stream_id,
            priority: None,
            header_block,
            end_stream: false,
            end_headers: true,
            pad_len: None,
        }
    }

    /// RFC 9113 §6.2: reads a HEADERS frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<Headers, ProtocolError> {
        let headers = Headers::parse_fields(head, payload)?;
        headers.check_priority()?;
        Ok(headers)
    }

    /// RFC 9113 §5.3.1: a stream cannot depend on itself; a *stream* PROTOCOL_ERROR.
    pub(super) fn check_priority(&self) -> Result<(), ProtocolError> {
        match &self.priority {
            Some(spec) => check_not_self_dependent(self.stream_id, spec),
            None => Ok(()),
        }
    }

    /// [`Headers::parse`] without [`Headers::check_priority`]: the reader uses it to hand over
    /// the field block of a self-dependent HEADERS, which must still be decoded (§4.3).
    pub(super) fn parse_fields(head: Head, mut payload: Bytes) -> Result<Headers, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.2: HEADERS on stream 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "HEADERS on stream 0",
            ));
        }
        let has_priority = head.has(Head::PRIORITY);
        let fixed = if has_priority { PrioritySpec::LEN } else { 0 };
        let pad_len = strip_padding(&head, &mut payload, fixed)?;
        let priority = if has_priority {
            let Some(spec) = PrioritySpec::parse(&payload) else {
                return Err(ProtocolError::connection(
                    Reason::FRAME_SIZE_ERROR,
                    "HEADERS too short for priority",
                ));
            };
            payload.advance(PrioritySpec::LEN);
            Some(spec)
        } else {
            None
        };
        Ok(Headers {
            stream_id: head.stream_id,
            priority,
            header_block: payload,
            end_stream: head.has(Head::END_STREAM),
            end_headers: head.has(Head::END_HEADERS),
            pad_len,
        })
    }

    /// Appends the frame (RFC 9113 §6.2) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut flags = 0;
        if self.end_stream {
            flags |= Head::END_STREAM;
        }
        if self.end_headers {
            flags |= Head::END_HEADERS;
        }
        if self.pad_len.is_some() {
            flags |= Head::PADDED;
        }
        if self.priority.is_some() {
            flags |= Head::PRIORITY;
        }
        let fixed = if self.priority.is_some() {
            PrioritySpec::LEN
        } else {
            0
        };
        let length = padding_overhead(self.pad_len) + fixed as u32 + self.header_block.len() as u32;
        dst.reserve(HEADER_LEN + length as usize);
        Head {
            length,
            kind: FrameType::HEADERS,
            flags,
            stream_id: self.stream_id,
        }
        .encode(dst);
        if let Some(n) = self.pad_len {
            dst.put_u8(n);
        }
        if let Some(spec) = &self.priority {
            spec.encode(dst);
        }
        dst.put_slice(&self.header_block);
        put_padding(dst, self.pad_len);
    }
}

/// RFC 9113 §6.6 PUSH_PROMISE: the server announces a stream it will push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPromise {
    /// The client stream the push is associated with (never 0).
    pub stream_id: StreamId,
    /// The stream the server reserves for the push; the reserved bit is already cleared.
    pub promised_id: StreamId,
    /// The field block fragment (the promised request), HPACK-encoded; a slice of the frame read.
    pub header_block: Bytes,
    /// END_HEADERS flag: no CONTINUATION follows.
    pub end_headers: bool,
    /// `Some(n)`: PADDED flag, with `n` bytes of padding after the fragment (§6.6).
    pub pad_len: Option<u8>,
}

impl PushPromise {
    /// RFC 9113 §6.6: a PUSH_PROMISE carrying a whole field block (END_HEADERS set), without padding.
    pub fn new(stream_id: StreamId, promised_id: StreamId, header_block: Bytes) -> PushPromise {
        PushPromise {
            stream_id,
            promised_id,
            header_block,
            end_headers: true,
            pad_len: None,
        }
    }

    /// RFC 9113 §6.6: reads a PUSH_PROMISE frame whose header is `head`. Whether the promised
    /// id is acceptable (push enabled, a new even id) needs connection state and is not checked.
    pub(crate) fn parse(head: Head, mut payload: Bytes) -> Result<PushPromise, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.6: PUSH_PROMISE on stream 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "PUSH_PROMISE on stream 0",
            ));
        }
        let pad_len = strip_padding(&head, &mut payload, 4)?;
        let Some(promised) = read_u32(&payload) else {
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "PUSH_PROMISE too short for Promised Stream ID",
            ));
        };
        payload.advance(4);
        Ok(PushPromise {
            stream_id: head.stream_id,
            promised_id: StreamId::new(promised),
            header_block: payload,
            end_headers: head.has(Head::END_HEADERS),
            pad_len,
        })
    }

    /// Appends the frame (RFC 9113 §6.6) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut flags = 0;
        if self.end_headers {
            flags |= Head::END_HEADERS;
        }
        if self.pad_len.is_some() {
            flags |= Head::PADDED;
        }
        let length = padding_overhead(self.pad_len) + 4 + self.header_block.len() as u32;
        dst.reserve(HEADER_LEN + length as usize);
        Head {
            length,
            kind: FrameType::PUSH_PROMISE,
            flags,
            stream_id: self.stream_id,
        }
        .encode(dst);
        if let Some(n) = self.pad_len {
            dst.put_u8(n);
        }
        dst.put_u32(self.promised_id.value());
        dst.put_slice(&self.header_block);
        put_padding(dst, self.pad_len);
    }
}

/// RFC 9113 §6.10 CONTINUATION: a further fragment of a field block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The stream (never 0); the connection checks it is the one whose block is open.
    pub stream_id: StreamId,
    /// The field block fragment, HPACK-encoded; a slice of the frame read.
    pub header_block: Bytes,
    /// END_HEADERS flag: the field block is complete.
    pub end_headers: bool,
}

impl Continuation {
    /// RFC 9113 §6.10: a CONTINUATION that ends the field block (END_HEADERS set).
    pub fn new(stream_id: StreamId, header_block: Bytes) -> Continuation {
        Continuation {
            stream_id,
            header_block,
            end_headers: true,
        }
    }

    /// RFC 9113 §6.10: reads a CONTINUATION frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<Continuation, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.10: CONTINUATION on stream 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "CONTINUATION on stream 0",
            ));
        }
        Ok(Continuation {
            stream_id: head.stream_id,
            header_block: payload,
            end_headers: head.has(Head::END_HEADERS),
        })
    }

    /// Appends the frame (RFC 9113 §6.10) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(HEADER_LEN + self.header_block.len());
        Head {
            length: self.header_block.len() as u32,
            kind: FrameType::CONTINUATION,
            flags: if self.end_headers {
                Head::END_HEADERS
            } else {
                0
            },
            stream_id: self.stream_id,
        }
        .encode(dst);
        dst.put_slice(&self.header_block);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{
        assert_connection_error, assert_stream_error, parse, round_trip,
    };
    use super::super::Frame;
    use super::*;

    const HEADERS: u8 = 0x1;
    const PUSH_PROMISE: u8 = 0x5;
    const CONTINUATION: u8 = 0x9;

    #[test]
    fn headers_on_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(HEADERS, Head::END_HEADERS, 0, b"\x82"),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn headers_padded_without_pad_length_is_frame_size_error() {
        assert_connection_error(
            parse(HEADERS, Head::PADDED, 1, b""),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn headers_with_priority_too_short_for_priority_fields_is_frame_size_error() {
        assert_connection_error(
            parse(HEADERS, Head::PRIORITY, 1, &[0, 0, 0, 3]),
            Reason::FRAME_SIZE_ERROR,
        );
        assert_connection_error(
            parse(HEADERS, Head::PRIORITY | Head::PADDED, 1, &[0, 0, 0, 0, 3]),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn headers_padding_exceeding_payload_is_protocol_error() {
        assert_connection_error(
            parse(HEADERS, Head::PADDED, 1, &[3, 0x82, 0]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn headers_padding_may_not_overlap_priority_fields() {
        // Pad Length 1 + 5 priority bytes + 0 bytes left: padding of 1 would eat priority.
        assert_connection_error(
            parse(
                HEADERS,
                Head::PADDED | Head::PRIORITY,
                1,
                &[1, 0, 0, 0, 3, 15],
            ),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn headers_depending_on_its_own_stream_is_stream_protocol_error() {
        assert_stream_error(
            parse(
                HEADERS,
                Head::PRIORITY | Head::END_HEADERS,
                3,
                &[0, 0, 0, 3, 15, 0x82],
            ),
            3,
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn headers_fields_are_read_in_wire_order() {
        let frame = parse(
            HEADERS,
            Head::PADDED | Head::PRIORITY | Head::END_STREAM | Head::END_HEADERS,
            3,
            &[2, 0x80, 0, 0, 1, 200, 0x82, 0x86, 0, 0],
        );
        assert_eq!(
            frame,
            Ok(Frame::Headers(Headers {
                stream_id: StreamId::new(3),
                priority: Some(PrioritySpec {
                    dependency: StreamId::new(1),
                    exclusive: true,
                    weight: 200,
                }),
                header_block: Bytes::from_static(&[0x82, 0x86]),
                end_stream: true,
                end_headers: true,
                pad_len: Some(2),
            }))
        );
    }

    #[test]
    fn headers_round_trip() {
        round_trip(Frame::Headers(Headers::new(
            StreamId::new(1),
            Bytes::from_static(b"\x82\x86\x84"),
        )));
        round_trip(Frame::Headers(Headers {
            stream_id: StreamId::new(1),
            priority: None,
            header_block: Bytes::new(),
            end_stream: true,
            end_headers: false,
            pad_len: None,
        }));
    }

    #[test]
    fn headers_with_priority_and_padding_round_trip() {
        round_trip(Frame::Headers(Headers {
            stream_id: StreamId::new(5),
            priority: Some(PrioritySpec {
                dependency: StreamId::new(3),
                exclusive: true,
                weight: 41,
            }),
            header_block: Bytes::from_static(b"\x82"),
            end_stream: true,
            end_headers: true,
            pad_len: Some(7),
        }));
        round_trip(Frame::Headers(Headers {
            stream_id: StreamId::new(5),
            priority: Some(PrioritySpec::default()),
            header_block: Bytes::new(),
            end_stream: false,
            end_headers: true,
            pad_len: None,
        }));
        round_trip(Frame::Headers(Headers {
            stream_id: StreamId::new(5),
            priority: None,
            header_block: Bytes::from_static(b"\x82"),
            end_stream: false,
            end_headers: true,
            pad_len: Some(0),
        }));
    }

    #[test]
    fn push_promise_on_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(PUSH_PROMISE, Head::END_HEADERS, 0, &[0, 0, 0, 2]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn push_promise_too_short_for_promised_stream_id_is_frame_size_error() {
        assert_connection_error(
            parse(PUSH_PROMISE, Head::END_HEADERS, 1, &[0, 0, 2]),
            Reason::FRAME_SIZE_ERROR,
        );
        assert_connection_error(
            parse(PUSH_PROMISE, Head::PADDED, 1, &[0, 0, 0, 2]),
            Reason::FRAME_SIZE_ERROR,
        );
        assert_connection_error(
            parse(PUSH_PROMISE, Head::PADDED, 1, b""),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn push_promise_padding_exceeding_payload_is_protocol_error() {
        assert_connection_error(
            parse(PUSH_PROMISE, Head::PADDED, 1, &[2, 0, 0, 0, 2, 0x82]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn push_promise_reserved_bit_of_promised_id_is_ignored() {
        let frame = parse(PUSH_PROMISE, Head::END_HEADERS, 1, &[0x80, 0, 0, 2, 0x82]);
        let Ok(Frame::PushPromise(p)) = frame else {
            panic!("{frame:?}")
        };
        assert_eq!(p.promised_id, StreamId::new(2));
        assert_eq!(&p.header_block[..], b"\x82");
    }

    #[test]
    fn push_promise_round_trips() {
        round_trip(Frame::PushPromise(PushPromise::new(
            StreamId::new(1),
            StreamId::new(2),
            Bytes::from_static(b"\x82\x87"),
        )));
        round_trip(Frame::PushPromise(PushPromise {
            stream_id: StreamId::new(1),
            promised_id: StreamId::MAX,
            header_block: Bytes::from_static(b"\x82"),
            end_headers: false,
            pad_len: Some(3),
        }));
    }

    #[test]
    fn continuation_on_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(CONTINUATION, Head::END_HEADERS, 0, b"\x82"),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn continuation_round_trips() {
        round_trip(Frame::Continuation(Continuation::new(
            StreamId::new(9),
            Bytes::from_static(b"\x82"),
        )));
        round_trip(Frame::Continuation(Continuation {
            stream_id: StreamId::new(9),
            header_block: Bytes::new(),
            end_headers: false,
        }));
    }

    #[test]
    fn unknown_flags_on_known_frames_are_ignored() {
        let frame = parse(CONTINUATION, !Head::END_HEADERS, 9, b"\x82");
        assert_eq!(
            frame,
            Ok(Frame::Continuation(Continuation {
                stream_id: StreamId::new(9),
                header_block: Bytes::from_static(b"\x82"),
                end_headers: false,
            }))
        );
    }
}
