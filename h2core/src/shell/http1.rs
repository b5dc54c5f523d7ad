//! The deadlines of an HTTP/1.1 server connection (RFC 9112 §9.5): how long it may idle
//! between requests, and how long a request head may take once it has begun (a slowloris
//! client trickling a head holds a connection for nothing).

use crate::config::Config;
use std::time::{Duration, Instant};

/// The answer to a head that did not arrive in time (RFC 9110 §15.5.9); the connection then
/// closes.
pub const REQUEST_TIMEOUT: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Expired {
    /// No request began within `Config::idle_timeout`: close silently.
    Idle,
    /// A head began but did not complete within `Config::handshake_timeout`: write
    /// [`REQUEST_TIMEOUT`], then close.
    Head,
}

/// The one timer of an HTTP/1.1 server connection. The same limits as HTTP/2's: between
/// requests `Config::idle_timeout`, and once a head has begun `Config::handshake_timeout` (as
/// the HTTP/2 preface must arrive within it).
#[derive(Debug, Clone)]
pub struct Http1Timer {
    idle_timeout: Option<Duration>,
    head_timeout: Duration,
    idle_until: Option<Instant>,
    head_until: Option<Instant>,
}

impl Http1Timer {
    /// A connection that waits for its first request from `now`.
    pub fn new(config: &Config, now: Instant) -> Http1Timer {
        let mut t = Http1Timer {
            idle_timeout: config.idle_timeout,
            head_timeout: config.handshake_timeout,
            idle_until: None,
            head_until: None,
        };
        t.await_head(now);
        t
    }

    /// The previous exchange is over: the connection idles from `now`.
    pub fn await_head(&mut self, now: Instant) {
        self.idle_until = self.idle_timeout.map(|t| now + t);
        self.head_until = None;
    }

    /// Bytes of the next head are buffered (`buffered`), as of `now`: the head deadline
    /// starts with the first of them.
    pub fn head_bytes(&mut self, now: Instant, buffered: bool) {
        if buffered && self.head_until.is_none() {
            self.head_until = Some(now + self.head_timeout);
        }
    }

    /// A whole head arrived: no deadline while the exchange runs (the handler and the body
    /// take what they take; flow and TCP backpressure bound them).
    pub fn head_received(&mut self) {
        self.idle_until = None;
        self.head_until = None;
    }

    /// The next deadline, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.head_until.or(self.idle_until)
    }

    /// Time passed: which deadline expired, if one did.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Expired> {
        let deadline = self.poll_timeout()?;
        if now < deadline {
            return None;
        }
        let expired = if self.head_until.is_some() {
            Expired::Head
        } else {
            Expired::Idle
        };
        self.head_received();
        Some(expired)
    }
}
