//! Stream identifiers (RFC 9113 §5.1.1).

use std::fmt;

/// A 31-bit stream identifier (RFC 9113 §5.1.1). Stream 0 is the connection itself.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream 0: frames that apply to the whole connection.
    pub const ZERO: StreamId = StreamId(0);
    /// The largest identifier a stream may have (2^31-1).
    pub const MAX: StreamId = StreamId(u32::MAX >> 1);

    /// The identifier `id`, with the reserved high bit cleared (§4.1: it MUST be ignored).
    pub const fn new(id: u32) -> StreamId {
        StreamId(id & (u32::MAX >> 1))
    }

    /// The numeric value.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// True for stream 0, the connection control stream.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// §5.1.1: streams initiated by a client have odd identifiers.
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }

    /// §5.1.1: streams initiated by a server (pushes) have even, non-zero identifiers.
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 % 2 == 0
    }

    /// The next identifier of the same parity, or `None` once the space is exhausted (§5.1.1).
    pub fn next_id(self) -> Option<StreamId> {
        let next = self.0.checked_add(2)?;
        (next <= Self::MAX.0).then_some(StreamId(next))
    }
}

impl From<u32> for StreamId {
    fn from(id: u32) -> Self {
        StreamId::new(id)
    }
}

impl From<StreamId> for u32 {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
