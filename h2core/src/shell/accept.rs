//! Accepting a server connection: what the new socket speaks, decided within
//! `Config::handshake_timeout` counted from the accept.
//!
//! - Cleartext: the first bytes decide. The HTTP/2 preface (RFC 9113 §3.4) is h2c by prior
//!   knowledge (§3.3); anything else is HTTP/1.1, possibly asking to `Upgrade: h2c`.
//! - TLS: ALPN decides (RFC 9113 §3.2, RFC 7301): `h2` is HTTP/2; `http/1.1` or no ALPN is
//!   HTTP/1.1, where `Upgrade: h2c` is ignored (h2c is cleartext only, §3.1).
//!
//! Time spent before the HTTP/2 connection exists (sniffing, the TLS handshake) counts against
//! the same deadline: it is not granted twice.

use crate::config::Config;
use crate::conn::Connection;
use crate::preface::{sniff, Sniff};
use std::time::Instant;

/// The ALPN protocol id of HTTP/2 over TLS (RFC 9113 §3.2).
pub const ALPN_H2: &[u8] = b"h2";
/// The ALPN protocol id of HTTP/1.1 (RFC 7301 §6).
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// What an accepted connection turned out to speak.
#[derive(Debug)]
#[must_use]
pub enum Accepted {
    /// HTTP/2: drive this connection. The bytes already received (the preface and whatever
    /// came with it) are still in the adapter's buffer: feed them first.
    Http2(Box<Connection>),
    /// HTTP/1.1 (`h2core::http1::ServerConn`). `secure`: over TLS, so requests are `https` and
    /// `Upgrade: h2c` is ignored.
    Http1 {
        /// The connection is TLS.
        secure: bool,
    },
    /// Nothing usable arrived in time (or the peer left first): close without a word, as
    /// there is no protocol to answer in.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Cleartext: for the first bytes.
    FirstBytes,
    /// TLS: for the handshake to finish.
    TlsHandshake,
    /// Decided.
    Decided,
}

/// Decides what one accepted connection speaks. Sans-IO: the adapter reads into its own
/// buffer and asks [`Accept::poll`]; its one timer follows [`Accept::poll_timeout`].
#[derive(Debug)]
pub struct Accept {
    config: Config,
    accepted: Instant,
    waiting: Waiting,
    /// HTTP/2 only: an HTTP/1.1 client is answered with a protocol error (§3.4) by the core.
    http2_only: bool,
}

impl Accept {
    /// A cleartext connection accepted at `now`.
    pub fn cleartext(config: Config, now: Instant) -> Accept {
        Accept {
            config,
            accepted: now,
            waiting: Waiting::FirstBytes,
            http2_only: false,
        }
    }

    /// A TLS connection accepted at `now`, its handshake not done yet.
    pub fn tls(config: Config, now: Instant) -> Accept {
        Accept {
            waiting: Waiting::TlsHandshake,
            ..Accept::cleartext(config, now)
        }
    }

    /// Speak HTTP/2 by prior knowledge only (no HTTP/1.1 on this port): whatever the first
    /// bytes are, the core reads them as the preface, so anything else is a PROTOCOL_ERROR
    /// connection error (RFC 9113 §3.4).
    pub fn http2_only(mut self) -> Accept {
        self.http2_only = true;
        self
    }

    /// Cleartext: the adapter read more; `buf` is everything received so far, `eof` the peer
    /// closed. `None`: read more.
    pub fn poll(&mut self, now: Instant, buf: &[u8], eof: bool) -> Option<Accepted> {
        if self.waiting != Waiting::FirstBytes {
            return None;
        }
        let seen = if self.http2_only && !buf.is_empty() {
            Sniff::Http2
        } else {
            sniff(buf)
        };
        match seen {
            Sniff::Http2 => Some(self.http2(now)),
            Sniff::Http1 => self.decide(Accepted::Http1 { secure: false }),
            Sniff::NeedMore if eof => self.decide(Accepted::Close),
            Sniff::NeedMore => None,
        }
    }

    /// TLS: the handshake finished and ALPN chose `alpn` (None: the client offered none).
    pub fn tls_handshake_done(&mut self, now: Instant, alpn: Option<&[u8]>) -> Option<Accepted> {
        if self.waiting != Waiting::TlsHandshake {
            return None;
        }
        if alpn == Some(ALPN_H2) || self.http2_only {
            Some(self.http2(now))
        } else {
            self.decide(Accepted::Http1 { secure: true })
        }
    }

    /// The config the connection is accepted with (an HTTP/1.1 connection's limits too).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The deadline for deciding, while undecided.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.waiting != Waiting::Decided).then(|| self.accepted + self.config.handshake_timeout)
    }

    /// Time passed. At the deadline: no bytes (or an unfinished TLS handshake) closes
    /// silently; part of the HTTP/2 preface is HTTP/2 whose deadline has passed, so the core
    /// says why at once (GOAWAY SETTINGS_TIMEOUT... RFC 9113 §3.4).
    pub fn handle_timeout(&mut self, now: Instant, buf: &[u8]) -> Option<Accepted> {
        let deadline = self.poll_timeout()?;
        if now < deadline {
            return None;
        }
        match self.waiting {
            Waiting::FirstBytes if !buf.is_empty() => Some(self.http2(now)),
            _ => self.decide(Accepted::Close),
        }
    }

    fn decide(&mut self, accepted: Accepted) -> Option<Accepted> {
        self.waiting = Waiting::Decided;
        Some(accepted)
    }

    /// HTTP/2, with what is left of the handshake deadline.
    fn http2(&mut self, now: Instant) -> Accepted {
        self.waiting = Waiting::Decided;
        let mut config = self.config.clone();
        let elapsed = now.saturating_duration_since(self.accepted);
        config.handshake_timeout = config.handshake_timeout.saturating_sub(elapsed);
        Accepted::Http2(Box::new(Connection::new(config, now)))
    }
}
