//! RST_STREAM frames (RFC 9113 §6.4).

use super::{head::read_u32, FrameType, Head, Reason, StreamId, HEADER_LEN};
use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};

/// RFC 9113 §6.4 RST_STREAM: immediate termination of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RstStream {
    /// The stream reset (never 0).
    pub stream_id: StreamId,
    /// Why; unknown codes are kept as they are (§7).
    pub reason: Reason,
}

impl RstStream {
    /// RFC 9113 §6.4: an RST_STREAM of `stream_id` with `reason`.
    pub fn new(stream_id: StreamId, reason: Reason) -> RstStream {
        RstStream { stream_id, reason }
    }

    /// RFC 9113 §6.4: reads an RST_STREAM frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<RstStream, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.4: RST_STREAM on stream 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "RST_STREAM on stream 0",
            ));
        }
        match read_u32(&payload) {
            Some(code) if payload.len() == 4 => Ok(RstStream {
                stream_id: head.stream_id,
                reason: Reason(code),
            }),
            // §6.4: a length other than 4 MUST be a connection FRAME_SIZE_ERROR.
            _ => Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "RST_STREAM length is not 4",
            )),
        }
    }

    /// Appends the frame (RFC 9113 §6.4) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(HEADER_LEN + 4);
        Head {
            length: 4,
            kind: FrameType::RST_STREAM,
            flags: 0,
            stream_id: self.stream_id,
        }
        .encode(dst);
        dst.put_u32(self.reason.0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::Frame;
    use super::*;

    const RST_STREAM: u8 = 0x3;

    #[test]
    fn rst_stream_on_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(RST_STREAM, 0, 0, &[0, 0, 0, 8]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn rst_stream_length_other_than_four_is_frame_size_error() {
        assert_connection_error(
            parse(RST_STREAM, 0, 1, &[0, 0, 8]),
            Reason::FRAME_SIZE_ERROR,
        );
        assert_connection_error(
            parse(RST_STREAM, 0, 1, &[0, 0, 0, 8, 0]),
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn rst_stream_keeps_unknown_error_codes() {
        let frame = parse(RST_STREAM, 0, 1, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(
            frame,
            Ok(Frame::RstStream(RstStream::new(
                StreamId::new(1),
                Reason(0xdead_beef)
            )))
        );
    }

    #[test]
    fn rst_stream_round_trips() {
        round_trip(Frame::RstStream(RstStream::new(
            StreamId::new(1),
            Reason::CANCEL,
        )));
        round_trip(Frame::RstStream(RstStream::new(
            StreamId::MAX,
            Reason(u32::MAX),
        )));
    }
}
