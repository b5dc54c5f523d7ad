//! WINDOW_UPDATE frames (RFC 9113 §6.9).

use super::{head::read_u32, FrameType, Head, Reason, StreamId, HEADER_LEN};
use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};

/// RFC 9113 §6.9 WINDOW_UPDATE: the receiver grants `increment` more bytes of DATA, on one stream
/// or (stream 0) on the whole connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowUpdate {
    /// The stream whose window grows, or 0 for the connection's.
    pub stream_id: StreamId,
    /// Window Size Increment, 1..=2^31-1; the reserved bit is already cleared.
    pub increment: u32,
}

impl WindowUpdate {
    /// RFC 9113 §6.9: a WINDOW_UPDATE granting `increment` bytes on `stream_id` (0: the
    /// connection).
    pub fn new(stream_id: StreamId, increment: u32) -> WindowUpdate {
        WindowUpdate {
            stream_id,
            increment,
        }
    }

    /// RFC 9113 §6.9: reads a WINDOW_UPDATE frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<WindowUpdate, ProtocolError> {
        let increment = match read_u32(&payload) {
            // §6.9: the reserved bit MUST be ignored.
            Some(word) if payload.len() == 4 => word & super::MAX_WINDOW_SIZE,
            // §6.9: a length other than 4 MUST be a connection FRAME_SIZE_ERROR.
            _ => {
                return Err(ProtocolError::connection(
                    Reason::FRAME_SIZE_ERROR,
                    "WINDOW_UPDATE length is not 4",
                ))
            }
        };
        if increment == 0 {
            // §6.9: an increment of 0 MUST be a stream error, or a connection error when it is
            // on the connection's window.
            return Err(if head.stream_id.is_zero() {
                ProtocolError::connection(Reason::PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            } else {
                ProtocolError::stream(head.stream_id, Reason::PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
            });
        }
        Ok(WindowUpdate {
            stream_id: head.stream_id,
            increment,
        })
    }

    /// Appends the frame (RFC 9113 §6.9) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(HEADER_LEN + 4);
        Head {
            length: 4,
            kind: FrameType::WINDOW_UPDATE,
            flags: 0,
            stream_id: self.stream_id,
        }
        .encode(dst);
        // §6.9: the reserved bit MUST remain unset.
        dst.put_u32(self.increment & super::MAX_WINDOW_SIZE);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{
        assert_connection_error, assert_stream_error, parse, round_trip,
    };
    use super::super::Frame;
    use super::*;

    const WINDOW_UPDATE: u8 = 0x8;

    #[test]
    fn window_update_length_other_than_four_is_frame_size_error() {
        assert_connection_error(
            parse(WINDOW_UPDATE, 0, 0, &[0, 0, 1]),
            Reason::FRAME_SIZE_ERROR,
        );
        assert_connection_error(
            parse(WINDOW_UPDATE, 0, 1, &[0, 0, 0, 1, 0]),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn window_update_of_zero_on_a_stream_is_stream_protocol_error() {
        assert_stream_error(
            parse(WINDOW_UPDATE, 0, 3, &[0; 4]),
            3,
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn window_update_of_zero_on_the_connection_is_protocol_error() {
        assert_connection_error(parse(WINDOW_UPDATE, 0, 0, &[0; 4]), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn window_update_reserved_bit_is_ignored() {
        assert_eq!(
            parse(WINDOW_UPDATE, 0, 0, &[0xff, 0xff, 0xff, 0xff]),
            Ok(Frame::WindowUpdate(WindowUpdate::new(
                StreamId::ZERO,
                (1 << 31) - 1
            )))
        );
        // Only the reserved bit set: an increment of 0.
        assert_stream_error(
            parse(WINDOW_UPDATE, 0, 1, &[0x80, 0, 0, 0]),
            1,
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn window_update_is_legal_on_stream_zero_and_on_streams() {
        round_trip(Frame::WindowUpdate(WindowUpdate::new(StreamId::ZERO, 1)));
        round_trip(Frame::WindowUpdate(WindowUpdate::new(
            StreamId::new(1),
            (1 << 31) - 1,
        )));
    }
}
