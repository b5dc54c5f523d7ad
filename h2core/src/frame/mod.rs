//! The HTTP/2 frame layer (RFC 9113 §4 and §6).
//!
//! Parsing takes a whole frame as [`Bytes`] and returns payloads (DATA, header block fragments,
//! debug data, unknown payloads) as slices of it: no copy. Encoding appends to a [`BytesMut`].
//! Every rule a single frame can break is checked here and reported as a [`ProtocolError`] with
//! the scope and code the RFC assigns; rules that need connection state live in the connection.
//!
//! One module per frame type, as in the RFC's §6; [`FrameReader`] splits a byte stream into frames.
//!
//! [`ProtocolError`]: crate::ProtocolError

use bytes::{Bytes, BytesMut};

mod data;
mod go_away;
mod head;
mod headers;
mod ping;
mod priority;
mod priority_update;
mod reader;
mod reason;
mod rst_stream;
mod settings;
mod stream_id;
mod unknown;
mod window_update;

pub use data::Data;
pub use go_away::GoAway;
pub use head::{FrameType, Head, HEADER_LEN};
pub use headers::{Continuation, Headers, PushPromise};
pub use ping::Ping;
pub use priority::{Priority, PrioritySpec};
pub use priority_update::PriorityUpdate;
pub use reader::{FrameReader, ReadError};
pub use reason::Reason;
pub use rst_stream::RstStream;
pub use settings::{Setting, SettingId, Settings};
pub use stream_id::StreamId;
pub use unknown::Unknown;
pub use window_update::WindowUpdate;

/// RFC 9113 §4.2: the initial SETTINGS_MAX_FRAME_SIZE, and its smallest legal value.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
/// RFC 9113 §4.2: the largest legal SETTINGS_MAX_FRAME_SIZE (2^24-1).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;
/// RFC 9113 §6.9.1: the largest legal flow-control window (2^31-1).
pub const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;

/// One HTTP/2 frame, parsed (RFC 9113 §6, plus RFC 9218 PRIORITY_UPDATE and unknown types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// §6.1 DATA.
    Data(Data),
    /// §6.2 HEADERS.
    Headers(Headers),
    /// §6.3 PRIORITY.
    Priority(Priority),
    /// §6.4 RST_STREAM.
    RstStream(RstStream),
    /// §6.5 SETTINGS.
    Settings(Settings),
    /// §6.6 PUSH_PROMISE.
    PushPromise(PushPromise),
    /// §6.7 PING.
    Ping(Ping),
    /// §6.8 GOAWAY.
    GoAway(GoAway),
    /// §6.9 WINDOW_UPDATE.
    WindowUpdate(WindowUpdate),
    /// §6.10 CONTINUATION.
    Continuation(Continuation),
    /// RFC 9218 §7.1 PRIORITY_UPDATE.
    PriorityUpdate(PriorityUpdate),
    /// §4.1/§5.5: a frame of a type we do not know, kept whole so extensions can see it.
    Unknown(Unknown),
}

impl Frame {
    /// The stream this frame is sent on (0 for connection-level frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::Settings(_) => StreamId::ZERO,
            Frame::PushPromise(f) => f.stream_id,
            Frame::Ping(_) => StreamId::ZERO,
            Frame::GoAway(_) => StreamId::ZERO,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::PriorityUpdate(_) => StreamId::ZERO,
            Frame::Unknown(f) => f.stream_id,
        }
    }

    /// Appends the encoded frame (header and payload) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
            Frame::PriorityUpdate(f) => f.encode(dst),
            Frame::Unknown(f) => f.encode(dst),
        }
    }

    /// Parses one frame whose 9-byte header is `head` and whose payload is `payload`
    /// (exactly `head.length` bytes). Payload slices in the result share `payload`'s memory.
    pub fn parse(head: Head, payload: Bytes) -> Result<Frame, crate::ProtocolError> {
        match head.kind {
            FrameType::DATA => Data::parse(head, payload).map(Frame::Data),
            FrameType::HEADERS => Headers::parse(head, payload).map(Frame::Headers),
            FrameType::PRIORITY => Priority::parse(head, payload).map(Frame::Priority),
            FrameType::RST_STREAM => RstStream::parse(head, payload).map(Frame::RstStream),
            FrameType::SETTINGS => Settings::parse(head, payload).map(Frame::Settings),
            FrameType::PUSH_PROMISE => PushPromise::parse(head, payload).map(Frame::PushPromise),
            FrameType::PING => Ping::parse(head, payload).map(Frame::Ping),
            FrameType::GOAWAY => GoAway::parse(head, payload).map(Frame::GoAway),
            FrameType::WINDOW_UPDATE => WindowUpdate::parse(head, payload).map(Frame::WindowUpdate),
            FrameType::CONTINUATION => Continuation::parse(head, payload).map(Frame::Continuation),
            FrameType::PRIORITY_UPDATE => {
                PriorityUpdate::parse(head, payload).map(Frame::PriorityUpdate)
            }
            _ => Ok(Frame::Unknown(Unknown::parse(head, payload))),
        }
    }
}
