//! The 9-byte frame header (RFC 9113 §4.1).

use super::StreamId;
use bytes::{BufMut, BytesMut};
use std::fmt;

/// RFC 9113 §4.1: every frame starts with a header of 9 bytes.
pub const HEADER_LEN: usize = 9;

/// The 8-bit Type field of a frame header (RFC 9113 §4.1, §6; RFC 9218 §7.1).
///
/// Any value may appear on the wire: types this crate does not know are parsed as
/// [`Unknown`](super::Unknown) frames (§5.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameType(pub u8);

impl FrameType {
    /// RFC 9113 §6.1 DATA.
    pub const DATA: FrameType = FrameType(0x0);
    /// RFC 9113 §6.2 HEADERS.
    pub const HEADERS: FrameType = FrameType(0x1);
    /// RFC 9113 §6.3 PRIORITY.
    pub const PRIORITY: FrameType = FrameType(0x2);
    /// RFC 9113 §6.4 RST_STREAM.
    pub const RST_STREAM: FrameType = FrameType(0x3);
    /// RFC 9113 §6.5 SETTINGS.
    pub const SETTINGS: FrameType = FrameType(0x4);
    /// RFC 9113 §6.6 PUSH_PROMISE.
    pub const PUSH_PROMISE: FrameType = FrameType(0x5);
    /// RFC 9113 §6.7 PING.
    pub const PING: FrameType = FrameType(0x6);
    /// RFC 9113 §6.8 GOAWAY.
    pub const GOAWAY: FrameType = FrameType(0x7);
    /// RFC 9113 §6.9 WINDOW_UPDATE.
    pub const WINDOW_UPDATE: FrameType = FrameType(0x8);
    /// RFC 9113 §6.10 CONTINUATION.
    pub const CONTINUATION: FrameType = FrameType(0x9);
    /// RFC 9218 §7.1 PRIORITY_UPDATE.
    pub const PRIORITY_UPDATE: FrameType = FrameType(0x10);

    /// The name RFC 9113 §6 (or RFC 9218 §7.1) gives this type, or `None` for a type this crate does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FrameType::DATA => "DATA",
            FrameType::HEADERS => "HEADERS",
            FrameType::PRIORITY => "PRIORITY",
            FrameType::RST_STREAM => "RST_STREAM",
            FrameType::SETTINGS => "SETTINGS",
            FrameType::PUSH_PROMISE => "PUSH_PROMISE",
            FrameType::PING => "PING",
            FrameType::GOAWAY => "GOAWAY",
            FrameType::WINDOW_UPDATE => "WINDOW_UPDATE",
            FrameType::CONTINUATION => "CONTINUATION",
            FrameType::PRIORITY_UPDATE => "PRIORITY_UPDATE",
            _ => return None,
        })
    }
}

impl fmt::Debug for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "FrameType({:#x})", self.0),
        }
    }
}

/// A frame header (RFC 9113 §4.1): Length (24), Type (8), Flags (8), R (1), Stream Identifier (31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Length of the payload in bytes, not counting these 9 (a 24-bit value).
    pub length: u32,
    /// The frame type.
    pub kind: FrameType,
    /// The flags, as on the wire; each frame type gives meaning to some bits (§4.1: others are
    /// ignored).
    pub flags: u8,
    /// The stream; the reserved bit is already cleared.
    pub stream_id: StreamId,
}

impl Head {
    /// RFC 9113 §6.1, §6.2: END_STREAM flag of DATA and HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// RFC 9113 §6.5, §6.7: ACK flag of SETTINGS and PING.
    pub const ACK: u8 = 0x1;
    /// RFC 9113 §6.2, §6.6, §6.10: END_HEADERS flag of HEADERS, PUSH_PROMISE and CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
    /// RFC 9113 §6.1, §6.2, §6.6: PADDED flag of DATA, HEADERS and PUSH_PROMISE.
    pub const PADDED: u8 = 0x8;
    /// RFC 9113 §6.2: PRIORITY flag of HEADERS.
    pub const PRIORITY: u8 = 0x20;

    /// Reads a header (RFC 9113 §4.1). The reserved bit of the stream identifier is ignored, as
    /// §4.1 requires; the length is not checked here (the reader compares it with
    /// SETTINGS_MAX_FRAME_SIZE).
    pub fn parse(buf: &[u8; HEADER_LEN]) -> Head {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *buf;
        Head {
            length: u32::from_be_bytes([0, l0, l1, l2]),
            kind: FrameType(kind),
            flags,
            stream_id: StreamId::new(u32::from_be_bytes([s0, s1, s2, s3])),
        }
    }

    /// Appends the 9-byte header (RFC 9113 §4.1) to `dst`, with the reserved bit unset (§4.1: it
    /// MUST remain unset when sending). `length` must fit in 24 bits.
    pub fn encode(&self, dst: &mut BytesMut) {
        debug_assert!(
            self.length < 1 << 24,
            "frame length {} overflows",
            self.length
        );
        dst.put_slice(&self.to_bytes());
    }

    /// The 9 octets of the frame header (RFC 9113 §4.1), as [`Head::encode`] appends them.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [_, l0, l1, l2] = self.length.to_be_bytes();
        let [s0, s1, s2, s3] = self.stream_id.value().to_be_bytes();
        [l0, l1, l2, self.kind.0, self.flags, s0, s1, s2, s3]
    }

    /// True when every bit of `flag` is set.
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag == flag
    }
}

/// Reads a big-endian u32 at the start of `buf`, or `None` when `buf` is shorter than 4 bytes.
pub(super) fn read_u32(buf: &[u8]) -> Option<u32> {
    buf.first_chunk::<4>().map(|b| u32::from_be_bytes(*b))
}

/// Helpers shared by the frame modules' tests.
#[cfg(test)]
pub(super) mod testing {
    use super::super::{Frame, FrameReader, Head, StreamId};
    use crate::{ProtocolError, Reason};
    use bytes::{Bytes, BytesMut};

    /// Parses a frame given field by field; the header's length is the payload's.
    pub(crate) fn parse(
        kind: u8,
        flags: u8,
        stream: u32,
        payload: &[u8],
    ) -> Result<Frame, ProtocolError> {
        let head = Head {
            length: payload.len() as u32,
            kind: super::FrameType(kind),
            flags,
            stream_id: StreamId::new(stream),
        };
        Frame::parse(head, Bytes::copy_from_slice(payload))
    }

    /// Asserts a §5.4.1 connection error with `reason`.
    #[track_caller]
    pub(crate) fn assert_connection_error(result: Result<Frame, ProtocolError>, reason: Reason) {
        match result {
            Err(ProtocolError::Connection(e)) => assert_eq!(e.reason, reason, "{e}"),
            other => panic!("expected connection error {reason:?}, got {other:?}"),
        }
    }

    /// Asserts a §5.4.2 stream error on `stream` with `reason`.
    #[track_caller]
    pub(crate) fn assert_stream_error(
        result: Result<Frame, ProtocolError>,
        stream: u32,
        reason: Reason,
    ) {
        match result {
            Err(ProtocolError::Stream(e)) => {
                assert_eq!(e.reason, reason, "{e}");
                assert_eq!(e.stream, StreamId::new(stream), "{e}");
            }
            other => panic!("expected stream error {reason:?} on {stream}, got {other:?}"),
        }
    }

    /// Encodes `frame`, reads it back through a [`FrameReader`] and asserts it is unchanged.
    /// Returns the encoded bytes.
    #[track_caller]
    pub(crate) fn round_trip(frame: Frame) -> Bytes {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf);
        let encoded = buf.clone().freeze();
        let mut reader = FrameReader::new();
        reader.set_max_frame_size(super::super::MAX_MAX_FRAME_SIZE);
        let parsed = reader.read(&mut buf).expect("valid frame");
        assert_eq!(parsed, Some(frame));
        assert!(buf.is_empty(), "{} bytes left over", buf.len());
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_big_endian() {
        let head = Head::parse(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x07]);
        assert_eq!(head.length, 0x010203);
        assert_eq!(head.kind, FrameType::SETTINGS);
        assert_eq!(head.flags, 0x05);
        assert_eq!(head.stream_id, StreamId::new(7));
    }

    #[test]
    fn reserved_stream_bit_is_ignored_on_receipt_and_unset_on_send() {
        let head = Head::parse(&[0, 0, 0, 0, 0, 0x80, 0, 0, 3]);
        assert_eq!(head.stream_id, StreamId::new(3));
        let mut dst = BytesMut::new();
        head.encode(&mut dst);
        assert_eq!(&dst[..], &[0, 0, 0, 0, 0, 0, 0, 0, 3]);
    }

    #[test]
    fn head_round_trips() {
        let head = Head {
            length: (1 << 24) - 1,
            kind: FrameType(0xfe),
            flags: 0xff,
            stream_id: StreamId::MAX,
        };
        let mut dst = BytesMut::new();
        head.encode(&mut dst);
        assert_eq!(dst.len(), HEADER_LEN);
        let bytes: [u8; HEADER_LEN] = dst[..].try_into().unwrap();
        assert_eq!(Head::parse(&bytes), head);
    }

    #[test]
    fn frame_type_debug_names_known_types() {
        assert_eq!(
            format!("{:?}", FrameType::PRIORITY_UPDATE),
            "PRIORITY_UPDATE"
        );
        assert_eq!(format!("{:?}", FrameType(0xab)), "FrameType(0xab)");
    }
}
