//! What the connection tells the application (the vocabulary of python-hyper/h2).

use crate::frame::{Reason, Setting, StreamId};
use crate::hpack::Header;
use bytes::Bytes;
use smallvec::SmallVec;
use std::time::Duration;

/// Something the peer did that the application should know about, from
/// [`Connection::poll_event`](crate::Connection::poll_event). Each variant names the section of
/// RFC 9113 (or RFC 9218) it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Server: a request's header block arrived (RFC 9113 §8.1). `end_stream` means no body.
    RequestReceived {
        /// The new stream.
        stream: StreamId,
        /// Pseudo-headers first, then regular fields, as received.
        headers: Vec<Header>,
        /// The request has no content.
        end_stream: bool,
    },
    /// Client: the final response's header block arrived (§8.1).
    ResponseReceived {
        /// Our request's stream (or a pushed stream).
        stream: StreamId,
        /// `:status` first, then regular fields.
        headers: Vec<Header>,
        /// The response has no content.
        end_stream: bool,
    },
    /// Client: a 1xx response (§8.1, e.g. 100-continue or 103 Early Hints).
    InformationalResponseReceived {
        /// Our request's stream.
        stream: StreamId,
        /// `:status` first, then regular fields.
        headers: Vec<Header>,
    },
    /// Trailers arrived; they always end the stream (§8.1).
    TrailersReceived {
        /// The stream.
        stream: StreamId,
        /// The trailer fields.
        headers: Vec<Header>,
    },
    /// DATA arrived (§6.1). Give `data.len()` back with `release_capacity` once consumed; the
    /// padding (`flow_controlled_len - data.len()`) is returned by the connection itself.
    DataReceived {
        /// The stream.
        stream: StreamId,
        /// The payload, a slice of the input buffer.
        data: Bytes,
        /// The bytes this frame counted against flow control (payload plus padding, §6.9.1).
        flow_controlled_len: u32,
        /// END_STREAM was set.
        end_stream: bool,
    },
    /// The peer ended its side of the stream (END_STREAM on DATA or HEADERS, §5.1).
    StreamEnded {
        /// The stream.
        stream: StreamId,
    },
    /// The stream was reset (§6.4), by the peer (`remote`) or by us because of a stream error.
    /// `REFUSED_STREAM` (including streams above a GOAWAY's last id, §6.8) means it was never
    /// processed and may be retried.
    StreamReset {
        /// The stream.
        stream: StreamId,
        /// The error code.
        reason: Reason,
        /// True if the peer sent the RST_STREAM or GOAWAY.
        remote: bool,
    },
    /// The deadline the application set on the stream (`Connection::set_deadline`) passed:
    /// we reset it with CANCEL (§8.1, §5.4.2), which also stops the peer's work on it. No
    /// `StreamReset` follows for it.
    DeadlinePassed {
        /// The stream.
        stream: StreamId,
    },
    /// Client: the server promised a pushed response (§8.4).
    PushedStreamReceived {
        /// The stream the promise arrived on.
        parent: StreamId,
        /// The reserved stream that will carry the response.
        promised: StreamId,
        /// The promised request's header block.
        headers: Vec<Header>,
    },
    /// Send capacity opened: a WINDOW_UPDATE arrived or settings grew the window (§6.9).
    /// `stream` is zero for the connection window.
    WindowUpdated {
        /// The stream, or zero for the connection.
        stream: StreamId,
    },
    /// The peer's SETTINGS took effect (§6.5.3).
    RemoteSettingsChanged {
        /// The parameters as received.
        changed: SmallVec<[Setting; 8]>,
    },
    /// The peer acknowledged our SETTINGS; our new values are in force (§6.5.3).
    SettingsAcknowledged,
    /// The peer answered our PING (§6.7); `rtt` is the time since we sent it.
    PingAckReceived {
        /// The opaque data we sent.
        payload: [u8; 8],
        /// Round-trip time.
        rtt: Duration,
    },
    /// The peer sent GOAWAY (§6.8): no new streams; streams above `last_stream_id` were not
    /// processed (they are reported as `StreamReset` with REFUSED_STREAM).
    GoAwayReceived {
        /// The last stream the peer processed or might process.
        last_stream_id: StreamId,
        /// Why.
        error_code: Reason,
        /// Opaque diagnostic data.
        debug_data: Bytes,
    },
    /// RFC 9218: the peer changed a stream's priority (header or PRIORITY_UPDATE).
    PriorityUpdated {
        /// The stream.
        stream: StreamId,
        /// Urgency 0 (highest) to 7.
        urgency: u8,
        /// Incremental delivery is useful.
        incremental: bool,
    },
    /// A frame of a type this library does not know (§5.5).
    ExtensionFrameReceived {
        /// Frame type.
        kind: u8,
        /// Flags as received.
        flags: u8,
        /// Stream identifier.
        stream: StreamId,
        /// The payload.
        payload: Bytes,
    },
    /// The connection is over (§5.4.1, §6.8): nothing more will be read or written once
    /// `poll_transmit` has drained. `reason` is NO_ERROR after a graceful close.
    ConnectionTerminated {
        /// The error code sent or received in GOAWAY.
        reason: Reason,
        /// True if the peer ended the connection.
        remote: bool,
        /// Why, for logs.
        detail: String,
    },
}
