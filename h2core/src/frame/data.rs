//! DATA frames (RFC 9113 §6.1) and the padding they share with HEADERS and PUSH_PROMISE.

use super::{FrameType, Head, StreamId};
use crate::{ProtocolError, Reason};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// RFC 9113 §6.1 DATA: a chunk of a stream's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// The stream (never 0: §6.1).
    pub stream_id: StreamId,
    /// The content, without padding; on receipt a slice of the frame read (no copy).
    pub data: Bytes,
    /// END_STREAM flag: the last frame the sender sends on this stream.
    pub end_stream: bool,
    /// `Some(n)`: PADDED flag, with `n` bytes of padding after the data (§6.1).
    pub pad_len: Option<u8>,
}

impl Data {
    /// RFC 9113 §6.1: a DATA frame carrying `data`, without END_STREAM or padding.
    pub fn new(stream_id: StreamId, data: Bytes) -> Data {
        Data {
            stream_id,
            data,
            end_stream: false,
            pad_len: None,
        }
    }

    /// RFC 9113 §6.9.1: the bytes counted against flow-control windows, i.e. the whole payload
    /// including the Pad Length field and the padding.
    pub fn flow_controlled_len(&self) -> u32 {
        self.data.len() as u32 + padding_overhead(self.pad_len)
    }

    /// RFC 9113 §6.1: reads a DATA frame whose header is `head`.
    pub(crate) fn parse(head: Head, mut payload: Bytes) -> Result<Data, ProtocolError> {
        if head.stream_id.is_zero() {
            // §6.1: DATA frames MUST be associated with a stream.
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "DATA on stream 0",
            ));
        }
        let pad_len = strip_padding(&head, &mut payload, 0)?;
        Ok(Data {
            stream_id: head.stream_id,
            data: payload,
            end_stream: head.has(Head::END_STREAM),
            pad_len,
        })
    }

    /// RFC 9113 §6.1: appends the frame header and, when padded, the Pad Length field: everything that precedes
    /// [`data`](Data::data) on the wire. Lets a writer send the data from the application's own
    /// buffer (vectored write), followed by `pad_len` zero bytes.
    pub fn encode_prefix(&self, dst: &mut BytesMut) {
        let mut flags = 0;
        if self.end_stream {
            flags |= Head::END_STREAM;
        }
        if self.pad_len.is_some() {
            flags |= Head::PADDED;
        }
        Head {
            length: self.flow_controlled_len(),
            kind: FrameType::DATA,
            flags,
            stream_id: self.stream_id,
        }
        .encode(dst);
        if let Some(n) = self.pad_len {
            dst.put_u8(n);
        }
    }

    /// Appends the whole frame (RFC 9113 §6.1) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(super::HEADER_LEN + self.flow_controlled_len() as usize);
        self.encode_prefix(dst);
        dst.put_slice(&self.data);
        put_padding(dst, self.pad_len);
    }
}

/// Payload bytes taken by the Pad Length field and the padding (§6.1).
pub(super) fn padding_overhead(pad_len: Option<u8>) -> u32 {
    pad_len.map_or(0, |n| 1 + u32::from(n))
}

/// Appends the padding of a padded frame: zeros (§6.1: padding octets MUST be set to zero when
/// sending).
pub(super) fn put_padding(dst: &mut BytesMut, pad_len: Option<u8>) {
    if let Some(n) = pad_len {
        dst.put_bytes(0, usize::from(n));
    }
}

/// Removes the Pad Length field (when PADDED is set) and the padding from `payload`, leaving the
/// `fixed` bytes of frame-specific fields (HEADERS priority, PUSH_PROMISE promised id) followed by
/// the content. Returns the Pad Length.
///
/// A payload too short for the Pad Length field or the fixed fields is a connection
/// FRAME_SIZE_ERROR. Padding longer than what follows the fixed fields is a connection
/// PROTOCOL_ERROR (§6.1, §6.2, §6.6); padding that leaves an empty content is legal. For DATA this
/// is §6.1's "length of the padding is the length of the frame payload or greater".
/// Padding is not required to be zero on receipt (§6.1: a receiver is not obligated to verify).
pub(super) fn strip_padding(
    head: &Head,
    payload: &mut Bytes,
    fixed: usize,
) -> Result<Option<u8>, ProtocolError> {
    let pad_len = if head.has(Head::PADDED) {
        let Some(&n) = payload.first() else {
            return Err(ProtocolError::connection(
                Reason::FRAME_SIZE_ERROR,
                "padded frame too short for Pad Length",
            ));
        };
        payload.advance(1);
        Some(n)
    } else {
        None
    };
    let Some(room) = payload.len().checked_sub(fixed) else {
        return Err(ProtocolError::connection(
            Reason::FRAME_SIZE_ERROR,
            "frame too short for its fixed fields",
        ));
    };
    if let Some(n) = pad_len {
        let n = usize::from(n);
        if n > room {
            return Err(ProtocolError::connection(
                Reason::PROTOCOL_ERROR,
                "padding exceeds frame payload",
            ));
        }
        payload.truncate(payload.len() - n);
    }
    Ok(pad_len)
}

#[cfg(test)]
mod tests {
    use super::super::head::testing::{assert_connection_error, parse, round_trip};
    use super::super::{Frame, FrameReader};
    use super::*;

    const DATA: u8 = 0x0;

    #[test]
    fn data_on_stream_zero_is_protocol_error() {
        assert_connection_error(parse(DATA, 0, 0, b"abc"), Reason::PROTOCOL_ERROR);
    }

    #[test]
    fn data_padded_without_pad_length_is_frame_size_error() {
        assert_connection_error(parse(DATA, Head::PADDED, 1, b""), Reason::FRAME_SIZE_ERROR);
    }

    #[test]
    fn data_pad_length_equal_to_payload_length_is_protocol_error() {
        // Payload of 4: Pad Length 4 claims more than the 3 bytes after the field.
        assert_connection_error(
            parse(DATA, Head::PADDED, 1, &[4, 0, 0, 0]),
            Reason::PROTOCOL_ERROR,
        );
    }

    #[test]
    fn data_padding_may_fill_the_whole_payload() {
        let frame = parse(DATA, Head::PADDED, 1, &[3, 0, 0, 0]).unwrap();
        let Frame::Data(data) = frame else { panic!() };
        assert!(data.data.is_empty());
        assert_eq!(data.pad_len, Some(3));
        assert_eq!(data.flow_controlled_len(), 4);
    }

    #[test]
    fn data_flow_controlled_len_counts_pad_length_and_padding() {
        let frame = parse(
            DATA,
            Head::PADDED | Head::END_STREAM,
            1,
            &[2, b'h', b'i', 0, 0],
        );
        let Ok(Frame::Data(data)) = frame else {
            panic!("{frame:?}")
        };
        assert_eq!(&data.data[..], b"hi");
        assert!(data.end_stream);
        assert_eq!(data.flow_controlled_len(), 5);
    }

    #[test]
    fn data_round_trips() {
        round_trip(Frame::Data(Data::new(
            StreamId::new(1),
            Bytes::from("hello"),
        )));
        round_trip(Frame::Data(Data {
            stream_id: StreamId::MAX,
            data: Bytes::new(),
            end_stream: true,
            pad_len: None,
        }));
    }

    #[test]
    fn padded_data_round_trips_with_zero_padding() {
        let encoded = round_trip(Frame::Data(Data {
            stream_id: StreamId::new(3),
            data: Bytes::from("abc"),
            end_stream: true,
            pad_len: Some(2),
        }));
        assert_eq!(
            &encoded[..],
            &[0, 0, 6, 0, 0x9, 0, 0, 0, 3, 2, b'a', b'b', b'c', 0, 0]
        );
        round_trip(Frame::Data(Data {
            stream_id: StreamId::new(3),
            data: Bytes::new(),
            end_stream: false,
            pad_len: Some(255),
        }));
    }

    #[test]
    fn read_data_payload_is_a_slice_of_the_input_buffer() {
        let mut buf = BytesMut::new();
        Data {
            stream_id: StreamId::new(1),
            data: Bytes::from(vec![7u8; 1000]),
            end_stream: false,
            pad_len: Some(10),
        }
        .encode(&mut buf);
        let range = buf.as_ptr_range();
        let frame = FrameReader::new().read(&mut buf).unwrap().unwrap();
        let Frame::Data(data) = frame else { panic!() };
        assert_eq!(data.data.len(), 1000);
        assert!(range.contains(&data.data.as_ptr()));
        assert!(data.data.as_ptr_range().end <= range.end);
    }

    #[test]
    fn encode_prefix_is_what_precedes_the_data() {
        let data = Data {
            stream_id: StreamId::new(5),
            data: Bytes::from("xyz"),
            end_stream: false,
            pad_len: Some(1),
        };
        let mut whole = BytesMut::new();
        data.encode(&mut whole);
        let mut prefix = BytesMut::new();
        data.encode_prefix(&mut prefix);
        prefix.extend_from_slice(b"xyz\0");
        assert_eq!(prefix, whole);
    }
}
