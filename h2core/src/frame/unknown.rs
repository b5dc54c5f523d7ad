//! Frames of unknown types (RFC 9113 §4.1, §5.5).

use super::{FrameType, Head, StreamId, HEADER_LEN};
use bytes::{BufMut, Bytes, BytesMut};

/// A frame of a type this crate does not know (RFC 9113 §5.5: implementations MUST ignore and
/// discard them, except inside a field block, which the connection checks). Kept whole so an
/// extension can read it, and so an extension frame can be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The Type field.
    pub kind: u8,
    /// The flags, as on the wire.
    pub flags: u8,
    /// The stream; the reserved bit is already cleared.
    pub stream_id: StreamId,
    /// The payload; on receipt a slice of the frame read.
    pub payload: Bytes,
}

impl Unknown {
    /// RFC 9113 §5.5: keeps a frame of an unknown type as it is; nothing can be wrong with it.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Unknown {
        Unknown {
            kind: head.kind.0,
            flags: head.flags,
            stream_id: head.stream_id,
            payload,
        }
    }

    /// Appends the frame (RFC 9113 §4.1) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(HEADER_LEN + self.payload.len());
        Head {
            length: self.payload.len() as u32,
            kind: FrameType(self.kind),
            flags: self.flags,
            stream_id: self.stream_id,
        }
        .encode(dst);
        dst.put_slice(&self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{parse, round_trip};
    use super::super::Frame;
    use super::*;

    #[test]
    fn unknown_frame_types_are_kept_whatever_the_flags_and_stream() {
        for (kind, flags, stream) in [(0xa, 0xff, 0), (0xff, 0, 7), (0x11, 0x01, 1)] {
            assert_eq!(
                parse(kind, flags, stream, b"ext"),
                Ok(Frame::Unknown(Unknown {
                    kind,
                    flags,
                    stream_id: StreamId::new(stream),
                    payload: Bytes::from_static(b"ext"),
                }))
            );
        }
    }

    #[test]
    fn unknown_frames_round_trip() {
        round_trip(Frame::Unknown(Unknown {
            kind: 0xb,
            flags: 0xa5,
            stream_id: StreamId::new(9),
            payload: Bytes::from_static(b"\x00\x01"),
        }));
    }
}
