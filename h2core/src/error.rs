//! Errors caused by the peer (RFC 9113 §5.4).
//!
//! A peer fault is either a *connection error* (§5.4.1: GOAWAY, then close) or a *stream error*
//! (§5.4.2: RST_STREAM on that stream only). Each carries the [`Reason`] that goes on the wire and a
//! short static text for logs and GOAWAY debug data. Misuse of the API by the caller is a different
//! family (`UserError`) and never puts anything on the wire.

use crate::frame::{Reason, StreamId};
use std::fmt;

/// RFC 9113 §5.4.1: an error that ends the whole connection with GOAWAY(`reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionError {
    /// The error code sent in GOAWAY.
    pub reason: Reason,
    /// Why, in a few words (also usable as GOAWAY debug data).
    pub detail: &'static str,
}

/// RFC 9113 §5.4.2: an error confined to one stream, answered with RST_STREAM(`reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamError {
    /// The stream to reset.
    pub stream: StreamId,
    /// The error code sent in RST_STREAM.
    pub reason: Reason,
    /// Why, in a few words.
    pub detail: &'static str,
}

/// A fault of the peer, with the scope (§5.4.1 connection or §5.4.2 stream) the RFC assigns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// The connection must be closed with GOAWAY.
    Connection(ConnectionError),
    /// Only one stream must be reset.
    Stream(StreamError),
}

impl ProtocolError {
    /// A connection error with `reason`.
    pub const fn connection(reason: Reason, detail: &'static str) -> Self {
        ProtocolError::Connection(ConnectionError { reason, detail })
    }

    /// A stream error on `stream` with `reason`.
    pub const fn stream(stream: StreamId, reason: Reason, detail: &'static str) -> Self {
        ProtocolError::Stream(StreamError {
            stream,
            reason,
            detail,
        })
    }

    /// The error code that goes on the wire.
    pub fn reason(&self) -> Reason {
        match self {
            ProtocolError::Connection(e) => e.reason,
            ProtocolError::Stream(e) => e.reason,
        }
    }

    /// True when the whole connection must end (§5.4.1).
    pub fn is_connection_error(&self) -> bool {
        matches!(self, ProtocolError::Connection(_))
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection error {:?}: {}", self.reason, self.detail)
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stream error on {:?} {:?}: {}",
            self.stream, self.reason, self.detail
        )
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Connection(e) => e.fmt(f),
            ProtocolError::Stream(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConnectionError {}
impl std::error::Error for StreamError {}
impl std::error::Error for ProtocolError {}

/// The application misused the API. Nothing was sent; the connection is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    /// No such stream, or it is closed.
    InactiveStream(StreamId),
    /// The stream's state forbids this (e.g. DATA after END_STREAM, a response on our own request).
    InvalidState(StreamId),
    /// Headers break RFC 9113 §8 rules (the reason is given).
    MalformedHeaders(&'static str),
    /// The peer disabled server push (SETTINGS_ENABLE_PUSH = 0), or we are a client.
    PushDisabled,
    /// This role cannot do that (a server sending a request, a client pushing).
    WrongRole,
    /// No more stream identifiers (§5.1.1), or GOAWAY forbids new streams.
    StreamsExhausted,
    /// The connection is closed or closing.
    ConnectionClosed,
    /// A value out of the RFC's range (e.g. a SETTINGS value, a frame type we implement).
    InvalidArgument(&'static str),
    /// A PING is already outstanding.
    PingPending,
    /// An extended CONNECT (`:protocol`, RFC 8441 §4) to a peer whose SETTINGS did not set
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL to 1 (§3): nothing was sent.
    ExtendedConnectDisabled,
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::InactiveStream(id) => write!(f, "stream {id} is not active"),
            UserError::InvalidState(id) => write!(f, "stream {id} cannot do that in its state"),
            UserError::MalformedHeaders(why) => write!(f, "malformed headers: {why}"),
            UserError::PushDisabled => f.write_str("the peer disabled server push"),
            UserError::WrongRole => f.write_str("not allowed in this role"),
            UserError::StreamsExhausted => f.write_str("no stream identifiers left"),
            UserError::ConnectionClosed => f.write_str("connection closed"),
            UserError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            UserError::PingPending => f.write_str("a PING is already outstanding"),
            UserError::ExtendedConnectDisabled => f.write_str(
                "the peer did not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)",
            ),
        }
    }
}

impl std::error::Error for UserError {}

/// What handling a received frame gives: nothing, or the peer's fault with its scope and code.
pub(crate) type ProtocolResult<T = ()> = Result<T, ProtocolError>;

/// A connection error (RFC 9113 §5.4.1) of frame handling.
pub(crate) fn conn_err(reason: Reason, detail: &'static str) -> ProtocolError {
    ProtocolError::connection(reason, detail)
}
