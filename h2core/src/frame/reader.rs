//! Splitting a byte stream into frames (RFC 9113 §4.1, §4.2), without copying payloads.

use super::{
    Frame, FrameType, Head, Headers, DEFAULT_MAX_FRAME_SIZE, HEADER_LEN, MAX_MAX_FRAME_SIZE,
};
use crate::{ProtocolError, Reason};
use bytes::{Buf, BytesMut};
use std::fmt;

/// Reads whole frames from the front of a receive buffer (RFC 9113 §4.1), enforcing the
/// SETTINGS_MAX_FRAME_SIZE we advertised (§4.2).
///
/// Payloads are split off the buffer (`split_to(..).freeze()`): a DATA payload handed to the
/// application shares the receive buffer's memory.
#[derive(Debug, Clone)]
pub struct FrameReader {
    max_frame_size: u32,
}

/// A frame the peer got wrong (RFC 9113 §5.4), with what the connection still needs of it.
///
/// After a [`ProtocolError::Stream`] the frame has been consumed and reading can go on once the
/// stream is reset. After a [`ProtocolError::Connection`] the connection is over: the buffer's
/// content is unspecified (a too large frame is left in place) and should not be read further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The header of the offending frame, as read; e.g. a DATA length still counts against
    /// flow control (§6.9) when the frame is rejected.
    pub head: Head,
    /// The error, with its RFC scope and code.
    pub error: ProtocolError,
    /// The frame, when it carries state the connection must still process despite the (stream)
    /// error: a HEADERS whose priority depends on its own stream (§5.3.1) still holds a field
    /// block that MUST be decoded to keep HPACK in sync (§4.3). `None` otherwise.
    pub frame: Option<Box<Frame>>,
}

impl FrameReader {
    /// A reader enforcing the initial SETTINGS_MAX_FRAME_SIZE of 16,384 (§4.2, §6.5.2).
    pub fn new() -> FrameReader {
        FrameReader {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }

    /// Sets the largest payload accepted: the SETTINGS_MAX_FRAME_SIZE *we* advertised, once the
    /// peer acknowledged it (§6.5.3). Clamped to the legal 2^14..=2^24-1 (§6.5.2).
    pub fn set_max_frame_size(&mut self, size: u32) {
        self.max_frame_size = size.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
    }

    /// The largest payload accepted (RFC 9113 §4.2).
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Reads one frame from the front of `buf`.
    ///
    /// - `Ok(None)`: `buf` holds less than a whole frame; it is left untouched.
    /// - `Ok(Some(frame))`: the frame was removed from `buf`.
    /// - `Err(e)`: see [`ReadError`]. A length above the maximum is a connection
    ///   FRAME_SIZE_ERROR (§4.2) reported as soon as the 9-byte header is in, without waiting for
    ///   a payload that may never be worth buffering; any other error consumed the frame.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ReadError> {
        let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let head = Head::parse(header);
        if head.length > self.max_frame_size {
            // §4.2: every frame type is treated alike; a connection error is allowed for all
            // (§5.4.1) and required for most.
            return Err(ReadError {
                head,
                error: ProtocolError::connection(
                    Reason::FRAME_SIZE_ERROR,
                    "frame exceeds SETTINGS_MAX_FRAME_SIZE",
                ),
                frame: None,
            });
        }
        let length = head.length as usize;
        if buf.len() - HEADER_LEN < length {
            return Ok(None);
        }
        // One split for the whole frame, then the header skipped in the frozen slice (a
        // pointer bump): cheaper than advancing the buffer and splitting again.
        let mut payload = buf.split_to(HEADER_LEN + length).freeze();
        payload.advance(HEADER_LEN);
        let error = |error| ReadError {
            head,
            error,
            frame: None,
        };
        if head.kind == FrameType::HEADERS {
            let headers = Headers::parse_fields(head, payload).map_err(error)?;
            return match headers.check_priority() {
                Ok(()) => Ok(Some(Frame::Headers(headers))),
                Err(e) => Err(ReadError {
                    head,
                    error: e,
                    frame: Some(Box::new(Frame::Headers(headers))),
                }),
            };
        }
        Frame::parse(head, payload).map(Some).map_err(error)
    }
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl From<ReadError> for ProtocolError {
    fn from(e: ReadError) -> Self {
        e.error
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (in {:?} frame)", self.error, self.head.kind)
    }
}

impl std::error::Error for ReadError {}

#[cfg(test)]
mod tests {
    use super::super::{
        Data, GoAway, Ping, PrioritySpec, Setting, SettingId, Settings, StreamId, WindowUpdate,
    };
    use super::*;
    use bytes::Bytes;

    fn sample_frames() -> Vec<Frame> {
        vec![
            Frame::Settings(Settings::new([Setting::new(
                SettingId::INITIAL_WINDOW_SIZE,
                1 << 20,
            )])),
            Frame::Headers(Headers::new(
                StreamId::new(1),
                Bytes::from_static(b"\x82\x86"),
            )),
            Frame::Data(Data {
                stream_id: StreamId::new(1),
                data: Bytes::from_static(b"hello"),
                end_stream: true,
                pad_len: Some(3),
            }),
            Frame::Data(Data::new(StreamId::new(3), Bytes::new())),
            Frame::Ping(Ping::new(*b"pingpong")),
            Frame::WindowUpdate(WindowUpdate::new(StreamId::ZERO, 1000)),
            Frame::GoAway(GoAway::new(StreamId::new(3), Reason::NO_ERROR)),
        ]
    }

    fn encode_all(frames: &[Frame]) -> BytesMut {
        let mut buf = BytesMut::new();
        for frame in frames {
            frame.encode(&mut buf);
        }
        buf
    }

    #[test]
    fn incomplete_frame_is_left_in_place() {
        let whole = encode_all(&sample_frames()[1..2]);
        for cut in 0..whole.len() {
            let mut buf = BytesMut::from(&whole[..cut]);
            assert_eq!(FrameReader::new().read(&mut buf), Ok(None), "cut at {cut}");
            assert_eq!(&buf[..], &whole[..cut]);
        }
    }

    #[test]
    fn several_frames_in_one_buffer_are_read_in_order() {
        let frames = sample_frames();
        let mut buf = encode_all(&frames);
        let mut reader = FrameReader::new();
        for frame in &frames {
            assert_eq!(reader.read(&mut buf).unwrap().as_ref(), Some(frame));
        }
        assert_eq!(reader.read(&mut buf), Ok(None));
        assert!(buf.is_empty());
    }

    #[test]
    fn byte_at_a_time_yields_the_same_frames_as_whole_input() {
        let frames = sample_frames();
        let input = encode_all(&frames);
        let mut reader = FrameReader::new();
        let mut buf = BytesMut::new();
        let mut read = Vec::new();
        for &byte in input.iter() {
            buf.extend_from_slice(&[byte]);
            while let Some(frame) = reader.read(&mut buf).unwrap() {
                read.push(frame);
            }
        }
        assert_eq!(read, frames);
        assert!(buf.is_empty());
    }

    #[test]
    fn frame_larger_than_max_frame_size_is_frame_size_error_from_header_alone() {
        let mut buf = BytesMut::from(&[0x00, 0x40, 0x01, 0x0, 0x0, 0, 0, 0, 1][..]);
        let err = FrameReader::new().read(&mut buf).unwrap_err();
        assert_eq!(
            err.error,
            ProtocolError::connection(Reason::FRAME_SIZE_ERROR, err.error_detail())
        );
        assert_eq!(err.head.length, (1 << 14) + 1);
        assert_eq!(err.head.kind, FrameType::DATA);
    }

    #[test]
    fn frame_of_exactly_max_frame_size_is_accepted() {
        let mut buf = BytesMut::new();
        Data::new(StreamId::new(1), Bytes::from(vec![0; 1 << 14])).encode(&mut buf);
        assert!(matches!(
            FrameReader::new().read(&mut buf),
            Ok(Some(Frame::Data(_)))
        ));
    }

    #[test]
    fn max_frame_size_is_raised_by_our_settings_and_clamped_to_legal_range() {
        let mut reader = FrameReader::new();
        assert_eq!(reader.max_frame_size(), 16_384);
        reader.set_max_frame_size(1 << 20);
        assert_eq!(reader.max_frame_size(), 1 << 20);
        let mut buf = BytesMut::new();
        Data::new(StreamId::new(1), Bytes::from(vec![0; 1 << 15])).encode(&mut buf);
        assert!(matches!(reader.read(&mut buf), Ok(Some(Frame::Data(_)))));
        reader.set_max_frame_size(0);
        assert_eq!(reader.max_frame_size(), 16_384);
        reader.set_max_frame_size(u32::MAX);
        assert_eq!(reader.max_frame_size(), (1 << 24) - 1);
    }

    #[test]
    fn stream_error_consumes_the_frame_and_reading_goes_on() {
        let mut buf = BytesMut::new();
        WindowUpdate::new(StreamId::new(5), 0).encode(&mut buf);
        Ping::new([1; 8]).encode(&mut buf);
        let mut reader = FrameReader::new();
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(
            err.error,
            ProtocolError::stream(StreamId::new(5), Reason::PROTOCOL_ERROR, err.error_detail())
        );
        assert_eq!(err.head.kind, FrameType::WINDOW_UPDATE);
        assert_eq!(err.frame, None);
        assert_eq!(
            reader.read(&mut buf),
            Ok(Some(Frame::Ping(Ping::new([1; 8]))))
        );
    }

    #[test]
    fn rejected_frame_reports_its_header() {
        let mut buf = BytesMut::from(&[0, 0, 2, 0x0, Head::PADDED, 0, 0, 0, 1, 9, 0][..]);
        let err = FrameReader::new().read(&mut buf).unwrap_err();
        assert_eq!(err.error.reason(), Reason::PROTOCOL_ERROR);
        assert!(err.error.is_connection_error());
        assert_eq!(err.head.kind, FrameType::DATA);
        assert_eq!(err.head.length, 2);
        assert!(buf.is_empty());
    }

    #[test]
    fn self_dependent_headers_is_a_stream_error_that_keeps_the_field_block() {
        let headers = Headers {
            priority: Some(PrioritySpec {
                dependency: StreamId::new(3),
                exclusive: false,
                weight: 15,
            }),
            ..Headers::new(StreamId::new(3), Bytes::from_static(b"\x82"))
        };
        let mut buf = BytesMut::new();
        headers.encode(&mut buf);
        let err = FrameReader::new().read(&mut buf).unwrap_err();
        assert_eq!(
            err.error,
            ProtocolError::stream(StreamId::new(3), Reason::PROTOCOL_ERROR, err.error_detail())
        );
        assert_eq!(err.frame, Some(Box::new(Frame::Headers(headers))));
        assert!(buf.is_empty());
    }

    #[test]
    fn read_error_converts_to_protocol_error() {
        let mut buf = BytesMut::from(&[0, 0, 0, 0x4, 0, 0, 0, 0, 1][..]);
        let result: Result<_, ProtocolError> =
            FrameReader::new().read(&mut buf).map_err(Into::into);
        assert_eq!(result.unwrap_err().reason(), Reason::PROTOCOL_ERROR);
    }

    impl ReadError {
        fn error_detail(&self) -> &'static str {
            match self.error {
                ProtocolError::Connection(e) => e.detail,
                ProtocolError::Stream(e) => e.detail,
            }
        }
    }
}
