//! GOAWAY frames (RFC 9113 §6.8).

use super::{head::read_u32, FrameType, Head, Reason, StreamId, HEADER_LEN};
use crate::ProtocolError;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// RFC 9113 §6.8 GOAWAY: the sender will not accept streams above `last_stream_id`, and is
/// shutting down (gracefully with NO_ERROR, or because of an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAway {
    /// The highest stream the sender may have processed; the reserved bit is already cleared.
    pub last_stream_id: StreamId,
    /// Why; unknown codes are kept as they are (§7).
    pub error_code: Reason,
    /// Opaque diagnostic data; on receipt a slice of the frame read.
    pub debug_data: Bytes,
}

impl GoAway {
    /// RFC 9113 §6.8: a GOAWAY without debug data.
    pub fn new(last_stream_id: StreamId, error_code: Reason) -> GoAway {
        GoAway {
            last_stream_id,
            error_code,
            debug_data: Bytes::new(),
        }
    }

    /// RFC 9113 §6.8: reads a GOAWAY frame whose header is `head`.
    pub(crate) fn parse(head: Head, mut payload: Bytes) -> Result<GoAway, ProtocolError> {
        if !head.stream_id.is_zero() {
            // §6.8: GOAWAY on a stream MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "GOAWAY on a stream",
            ));
        }
        let (Some(last), Some(code)) = (read_u32(&payload), payload.get(4..).and_then(read_u32))
        else {
            // §4.2: a frame too short for its mandatory fields is a FRAME_SIZE_ERROR, and a
            // GOAWAY alters the whole connection, so a connection error.
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "GOAWAY shorter than 8",
            ));
        };
        payload.advance(8);
        Ok(GoAway {
            last_stream_id: StreamId::new(last),
            error_code: Reason(code),
            debug_data: payload,
        })
    }

    /// Appends the frame (RFC 9113 §6.8) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let length = 8 + self.debug_data.len();
        dst.reserve(HEADER_LEN + length);
        Head {
            length: length as u32,
            kind: FrameType::GOAWAY,
            flags: 0,
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.put_u32(self.last_stream_id.value());
        dst.put_u32(self.error_code.0);
        dst.put_slice(&self.debug_data);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::Frame;
    use super::*;

    const GOAWAY: u8 = 0x7;

    #[test]
    fn goaway_on_a_stream_is_protocol_error() {
        assert_connection_error(parse(GOAWAY, 0, 1, &[0; 8]), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn goaway_shorter_than_eight_is_frame_size_error() {
        assert_connection_error(parse(GOAWAY, 0, 0, &[0; 7]), Reason::FRAME_SIZE_ERROR);
        assert_connection_error(parse(GOAWAY, 0, 0, &[]), Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn goaway_reserved_bit_of_last_stream_id_is_ignored() {
        let frame = parse(GOAWAY, 0, 0, &[0x80, 0, 0, 5, 0, 0, 0, 2, b'x']);
        assert_eq!(
            frame,
            Ok(Frame::GoAway(GoAway {
                last_stream_id: StreamId::new(5),
                error_code: Reason::INTERNAL_ERROR,
                debug_data: Bytes::from_static(b"x"),
            }))
        );
    }

    #[test]
    fn goaway_round_trips() {
        round_trip(Frame::GoAway(GoAway::new(StreamId::MAX, Reason::NO_ERROR)));
        round_trip(Frame::GoAway(GoAway {
            last_stream_id: StreamId::new(7),
            error_code: Reason(0x1234),
            debug_data: Bytes::from_static(b"too many pings"),
        }));
    }
}
