//! What the scripted applications do: the client's requests and how it reads each response.
//! The server's handler is fixed: it answers `GET /bytes/N` with N bytes, streamed as the
//! send capacity allows (RFC 9113 §6.9), as the demo server's route does.

use std::time::Duration;

/// How the client's application consumes a response body. What it has not consumed stays
/// buffered and unreturned to flow control (`release_capacity`), so a slow reader closes the
/// window the server sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Consumes every byte as it arrives.
    All,
    /// Consumes at most this many bytes per second, from the first byte on.
    Rate(u64),
    /// Consumes this many bytes, then stops reading for good (the stream stays open).
    StopAfter(u64),
    /// Consumes `after` bytes as they arrive, then nothing until virtual time `resume_at`,
    /// then everything as it arrives again.
    PauseUntil {
        /// Bytes consumed before the pause.
        after: u64,
        /// When the reader comes back.
        resume_at: Duration,
    },
}

/// One request of the client's script: `GET /bytes/{response_size}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// When the application sends it (virtual time).
    pub at: Duration,
    /// The response body the server's handler streams.
    pub response_size: u64,
    /// RFC 9218 urgency in a `priority` header field, if any.
    pub urgency: Option<u8>,
    /// How the response body is read.
    pub read: Read,
}

impl Request {
    /// A request at time zero for `response_size` bytes, read as they arrive.
    pub fn download(response_size: u64) -> Request {
        Request {
            at: Duration::ZERO,
            response_size,
            urgency: None,
            read: Read::All,
        }
    }

    /// Sent at `at` instead.
    pub fn at(mut self, at: Duration) -> Request {
        self.at = at;
        self
    }

    /// With `priority: u=urgency` (RFC 9218 §4.1).
    pub fn urgency(mut self, urgency: u8) -> Request {
        self.urgency = Some(urgency);
        self
    }

    /// Read as `read` says.
    pub fn read(mut self, read: Read) -> Request {
        self.read = read;
        self
    }
}

/// The path the server's handler understands: `/bytes/N`.
pub(crate) fn path_for(size: u64) -> String {
    format!("/bytes/{size}")
}

/// The response size asked by `path`, if it is `/bytes/N`.
pub(crate) fn size_from_path(path: &[u8]) -> Option<u64> {
    std::str::from_utf8(path.strip_prefix(b"/bytes/")?)
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_round_trips() {
        assert_eq!(size_from_path(path_for(12345).as_bytes()), Some(12345));
        assert_eq!(size_from_path(b"/other"), None);
    }
}
