//! PRIORITY frames (RFC 9113 §6.3) and the RFC 7540 priority fields they share with HEADERS
//! (§5.3.2, deprecated by RFC 9113 but still parsed).

use super::{head::read_u32, FrameType, Head, StreamId};
use crate::{ProtocolError, Reason};
use bytes::{BufMut, Bytes, BytesMut};

/// RFC 9113 §6.2/§6.3 (RFC 7540 §5.3): Exclusive (1), Stream Dependency (31), Weight (8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrioritySpec {
    /// The stream this one depends on (0: the root).
    pub dependency: StreamId,
    /// The E flag: the dependency is exclusive.
    pub exclusive: bool,
    /// The Weight field as on the wire: the weight is `weight + 1`, in 1..=256 (RFC 7540 §5.3.2).
    pub weight: u8,
}

impl PrioritySpec {
    /// Length of the fields on the wire.
    pub(super) const LEN: usize = 5;

    /// Reads the 5 bytes of priority fields at the start of `buf`, or `None` when too short.
    /// The E bit is taken out of the dependency, so the dependency carries no reserved bit.
    pub(super) fn parse(buf: &[u8]) -> Option<PrioritySpec> {
        let word = read_u32(buf)?;
        let weight = *buf.get(4)?;
        Some(PrioritySpec {
            dependency: StreamId::new(word),
            exclusive: word & (1 << 31) != 0,
            weight,
        })
    }

    /// Appends the 5 bytes of priority fields.
    pub(super) fn encode(&self, dst: &mut BytesMut) {
        let e = if self.exclusive { 1 << 31 } else { 0 };
        dst.put_u32(e | self.dependency.value());
        dst.put_u8(self.weight);
    }
}

impl Default for PrioritySpec {
    /// RFC 7540 §5.3.5: non-exclusive dependency on stream 0 with weight 16.
    fn default() -> Self {
        PrioritySpec {
            dependency: StreamId::ZERO,
            exclusive: false,
            weight: 15,
        }
    }
}

/// RFC 9113 §6.3 PRIORITY: the sender's (deprecated) priority advice for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    /// The stream whose priority is given (never 0).
    pub stream_id: StreamId,
    /// The priority fields.
    pub spec: PrioritySpec,
}

impl Priority {
    /// RFC 9113 §6.3: reads a PRIORITY frame whose header is `head`.
    pub(crate) fn parse(head: Head, payload: Bytes) -> Result<Priority, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.3: a PRIORITY frame with stream 0 MUST be a connection PROTOCOL_ERROR.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "PRIORITY on stream 0",
            ));
        }
        let spec = match PrioritySpec::parse(&payload) {
            Some(spec) if payload.len() == PrioritySpec::LEN => spec,
            // §6.3: a length other than 5 MUST be a *stream* FRAME_SIZE_ERROR.
            _ => {
                return Err(ProtocolError::stream(
                    head.stream_id,
                    Reason::FRAME_SIZE_ERROR,
                    "PRIORITY length is not 5",
                ))
            }
        };
        check_not_self_dependent(head.stream_id, &spec)?;
        Ok(Priority {
            stream_id: head.stream_id,
            spec,
        })
    }

    /// Appends the frame (RFC 9113 §6.3) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(super::HEADER_LEN + PrioritySpec::LEN);
        Head {
            length: PrioritySpec::LEN as u32,
            kind: FrameType::PRIORITY,
            flags: 0,
            stream_id: self.stream_id,
        }
        .encode(dst);
        self.spec.encode(dst);
    }
}

/// RFC 9113 §5.3.1: a stream cannot depend on itself; a stream PROTOCOL_ERROR.
pub(super) fn check_not_self_dependent(
    stream_id: StreamId,
    spec: &PrioritySpec,
) -> Result<(), ProtocolError> {
    if spec.dependency == stream_id {
        return Err(ProtocolError::stream(
            stream_id,
            Reason::PROTOCOL_ERROR,
            "stream depends on itself",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{
        assert_connection_error, assert_stream_error, parse, round_trip,
    };
    use super::super::Frame;
    use super::*;

    const PRIORITY: u8 = 0x2;

    #[test]
    fn priority_on_stream_zero_is_protocol_error() {
        assert_connection_error(
            parse(PRIORITY, 0, 0, &[0, 0, 0, 1, 15]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn priority_length_other_than_five_is_stream_frame_size_error() {
        assert_stream_error(
            parse(PRIORITY, 0, 3, &[0, 0, 0, 1]),
            3,
            Reason::FRAME_SIZE_ERROR,
        );
        assert_stream_error(
            parse(PRIORITY, 0, 3, &[0, 0, 0, 1, 15, 0]),
            3,
            Reason::FRAME_SIZE_ERROR,
        );
    }

    #[test]
    fn priority_depending_on_its_own_stream_is_stream_protocol_error() {
        assert_stream_error(
            parse(PRIORITY, 0, 5, &[0x80, 0, 0, 5, 15]),
            5,
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn priority_exclusive_bit_is_not_part_of_the_dependency() {
        let frame = parse(PRIORITY, 0, 5, &[0x80, 0, 0, 3, 255]).unwrap();
        let Frame::Priority(p) = frame else { panic!() };
        assert_eq!(
            p.spec,
            PrioritySpec {
                dependency: StreamId::new(3),
                exclusive: true,
                weight: 255,
            }
        );
    }

    #[test]
    fn priority_round_trips() {
        round_trip(Frame::Priority(Priority {
            stream_id: StreamId::new(7),
            spec: PrioritySpec::default(),
        }));
        round_trip(Frame::Priority(Priority {
            stream_id: StreamId::new(7),
            spec: PrioritySpec {
                dependency: StreamId::MAX,
                exclusive: true,
                weight: 0,
            },
        }));
    }
}
