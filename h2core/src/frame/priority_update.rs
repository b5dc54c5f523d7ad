//! PRIORITY_UPDATE frames (RFC 9218 §7.1).

use super::{head::read_u32, FrameType, Head, Reason, StreamId, HEADER_LEN};
use crate::ProtocolError;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// RFC 9218 §7.1 PRIORITY_UPDATE: new priority parameters for a stream, sent on stream 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityUpdate {
    /// The stream whose priority changes (never 0); the reserved bit is already cleared.
    pub prioritized_stream_id: StreamId,
    /// The Priority Field Value: an RFC 8941 dictionary in ASCII, as in the `Priority` header
    /// (RFC 9218 §5); not parsed here. On receipt a slice of the frame read.
    pub field_value: Bytes,
}

impl PriorityUpdate {
    /// RFC 9218 §7.1: reads a PRIORITY_UPDATE frame whose header is `head`.
    pub(crate) fn parse(head: Head, mut payload: Bytes) -> Result<PriorityUpdate, ProtocolError> {
        if !head.stream_id.is_zero() {
            // RFC 9218 §7.1: a stream identifier other than 0 MUST be a connection
            // PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "PRIORITY_UPDATE on a stream",
            ));
        }
        let Some(word) = read_u32(&payload) else {
            // RFC 9218 §7.1: too short for the Prioritized Stream ID MUST be a connection
            // FRAME_SIZE_ERROR.
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "PRIORITY_UPDATE shorter than 4",
            ));
        };
        let prioritized_stream_id = StreamId::new(word);
        if prioritized_stream_id.is_zero() {
            // RFC 9218 §7.1: a Prioritized Stream ID of 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "PRIORITY_UPDATE of stream 0",
            ));
        }
        payload.advance(4);
        Ok(PriorityUpdate {
            prioritized_stream_id,
            field_value: payload,
        })
    }

    /// Appends the frame (RFC 9218 §7.1) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let length = 4 + self.field_value.len();
        dst.reserve(HEADER_LEN + length);
        Head {
            length: length as u32,
            kind: FrameType::PRIORITY_UPDATE,
            flags: 0,
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.put_u32(self.prioritized_stream_id.value());
        dst.put_slice(&self.field_value);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::Frame;
    use super::*;

    const PRIORITY_UPDATE: u8 = 0x10;

    #[test]
    fn priority_update_on_a_stream_is_protocol_error() {
        assert_connection_error(
            parse(PRIORITY_UPDATE, 0, 1, &[0, 0, 0, 1, b'u', b'=', b'1']),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn priority_update_shorter_than_four_is_frame_size_error() {
        assert_connection_error(
            parse(PRIORITY_UPDATE, 0, 0, &[0, 0, 1]),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn priority_update_of_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(PRIORITY_UPDATE, 0, 0, &[0x80, 0, 0, 0, b'i']),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn priority_update_round_trips() {
        round_trip(Frame::PriorityUpdate(PriorityUpdate {
            prioritized_stream_id: StreamId::new(3),
            field_value: Bytes::from_static(b"u=1, i"),
        }));
        round_trip(Frame::PriorityUpdate(PriorityUpdate {
            prioritized_stream_id: StreamId::MAX,
            field_value: Bytes::new(),
        }));
    }
}
