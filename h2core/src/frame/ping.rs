//! PING frames (RFC 9113 §6.7).

use super::{FrameType, Head, Reason, StreamId, HEADER_LEN};
use crate::ProtocolError;
use bytes::{BufMut, Bytes, BytesMut};

/// RFC 9113 §6.7 PING: a round-trip probe, or (with ACK) the answer to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// ACK flag: this PING answers one received with the same payload.
    pub ack: bool,
    /// Opaque data; an answer MUST carry the payload it answers (§6.7).
    pub payload: [u8; 8],
}

impl Ping {
    /// RFC 9113 §6.7: a PING that asks for an answer.
    pub fn new(payload: [u8; 8]) -> Ping {
        Ping {
            ack: false,
            payload,
        }
    }

    /// RFC 9113 §6.7: the answer (ACK flag set) to a PING that carried `payload`.
    pub fn ack(payload: [u8; 8]) -> Ping {
        Ping { ack: true, payload }
    }

    /// RFC 9113 §6.7: reads a PING frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<Ping, ProtocolError> {
        if !head.stream_id.is_zero() {
            // §6.7: PING on a stream MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "PING on a stream",
            ));
        }
        let Ok(data) = <[u8; 8]>::try_from(&payload[..]) else {
            // §6.7: a length other than 8 MUST be a connection FRAME_SIZE_ERROR.
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "PING length is not 8",
            ));
        };
        Ok(Ping {
            ack: head.has(Head::ACK),
            payload: data,
        })
    }

    /// Appends the frame (RFC 9113 §6.7) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(HEADER_LEN + 8);
        Head {
            length: 8,
            kind: FrameType::PING,
            flags: if self.ack { Head::ACK } else { 0 },
            stream_id: StreamId::ZERO,
        }
        .encode(dst);
        dst.put_slice(&self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::Frame;
    use super::*;

    const PING: u8 = 0x6;

    #[test]
    fn ping_on_a_stream_is_protocol_error() {
        assert_connection_error(parse(PING, 0, 1, &[0; 8]), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn ping_length_other_than_eight_is_frame_size_error() {
        assert_connection_error(parse(PING, 0, 0, &[0; 7]), Reason::FRAME_SIZE_ERROR);
        assert_connection_error(parse(PING, Head::ACK, 0, &[0; 9]), Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn ping_round_trips() {
        round_trip(Frame::Ping(Ping::new(*b"12345678")));
        round_trip(Frame::Ping(Ping::ack([0xff; 8])));
    }
}
