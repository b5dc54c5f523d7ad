//! The client pool's rules: which connection takes a request, when to open another, and which
//! failed requests are sent again.
//!
//! - A connection takes requests once the server's first SETTINGS arrived, so its
//!   SETTINGS_MAX_CONCURRENT_STREAMS is known (RFC 9113 §6.5.2: before that, a client that
//!   opened many streams could see them refused), and until it goes away (GOAWAY either way,
//!   §6.8, or the end of the connection).
//! - It takes no more requests at once than the server allows (§5.1.2): each request reserves
//!   a slot in [`Slots`] before it is handed to the connection, and gives it back once the
//!   connection counts it as an active stream.
//! - When every connection is full, one new connection is opened; the requests that find it
//!   being opened wait for it rather than each opening their own ([`pick`]).
//! - A request the server refused without processing it (REFUSED_STREAM, or above a GOAWAY's
//!   last-stream-id, §8.7) is sent again, up to [`MAX_ATTEMPTS`] in all, if none of its body
//!   was read; a request without a body and with an idempotent method (RFC 9110 §9.2.2) is also
//!   sent again once when its connection failed before the response ([`Retry`]).
//! - A connection the server told its PINGs come too often (GOAWAY ENHANCE_YOUR_CALM with
//!   `too_many_pings`, as gRPC servers do) makes the next ones ping half as often
//!   ([`keepalive_backoff`]).
//!
//! [`Slots`] is shared between the thread or task that drives a connection and those that
//! send requests, so its counters are atomics; it never blocks and reads no clock.

use crate::config::Config;
use crate::conn::{Connection, ShutdownState};
use crate::event::Event;
use crate::frame::Reason;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// How many times a refused request is sent in all.
pub const MAX_ATTEMPTS: u32 = 4;

/// How long connecting, a TLS handshake and the server's first SETTINGS may each take before
/// a new connection is given up.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection's request slots, as its driver publishes them.
#[derive(Debug)]
pub struct Slots {
    /// Our streams open or half-closed (the core's count).
    active: AtomicU32,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (u32::MAX while unlimited).
    max_concurrent: AtomicU32,
    /// Requests assigned here that the connection has not started yet.
    reserved: AtomicU32,
    /// The server's first SETTINGS arrived, or the connection ended before it did.
    ready: AtomicBool,
    /// No new request may start here.
    closing: AtomicBool,
    /// The server said our PINGs come too often (GOAWAY ENHANCE_YOUR_CALM "too_many_pings").
    too_many_pings: AtomicBool,
}

impl Default for Slots {
    fn default() -> Self {
        Slots::new()
    }
}

impl Slots {
    /// A connection being opened: not ready, no streams.
    pub fn new() -> Slots {
        Slots {
            active: AtomicU32::new(0),
            max_concurrent: AtomicU32::new(u32::MAX),
            reserved: AtomicU32::new(0),
            ready: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            too_many_pings: AtomicBool::new(false),
        }
    }

    /// True once the server's limits are known (or the connection ended): waiting for this
    /// connection to open is over.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// True once the connection takes no new requests.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// True when a request sent now would start at once.
    pub fn has_room(&self) -> bool {
        self.is_ready()
            && !self.is_closing()
            && self.active.load(Ordering::Acquire) + self.reserved.load(Ordering::Acquire)
                < self.max_concurrent.load(Ordering::Acquire)
    }

    /// Takes a slot for one request if the server's limit leaves one.
    pub fn try_reserve(&self) -> bool {
        self.reserved
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| {
                let room = self.is_ready()
                    && !self.is_closing()
                    && self.active.load(Ordering::Acquire).saturating_add(r)
                        < self.max_concurrent.load(Ordering::Acquire);
                room.then_some(r + 1)
            })
            .is_ok()
    }

    /// Takes a slot whatever the limit: for the request that opened this connection, when the
    /// server allows no stream at all yet (the core queues it until it does).
    pub fn force_reserve(&self) {
        self.reserved.fetch_add(1, Ordering::AcqRel);
    }

    /// The reserved request started (it now counts in the core's active streams) or failed.
    pub fn release(&self) {
        let _ = self
            .reserved
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| r.checked_sub(1));
    }

    /// Driver: called with each event of the connection, before it is handled. True when
    /// requests waiting on the pool should look again.
    pub fn observe(&self, conn: &Connection, event: &Event) -> bool {
        match event {
            Event::RemoteSettingsChanged { .. } => {
                let max = conn.remote_settings().max_concurrent_streams;
                self.max_concurrent
                    .store(max.unwrap_or(u32::MAX), Ordering::Release);
                self.ready.store(true, Ordering::Release);
                true
            }
            Event::GoAwayReceived {
                error_code,
                debug_data,
                ..
            } => {
                if *error_code == Reason::ENHANCE_YOUR_CALM && debug_data[..] == *b"too_many_pings"
                {
                    self.too_many_pings.store(true, Ordering::Release);
                }
                self.finish()
            }
            Event::ConnectionTerminated { .. } => self.finish(),
            _ => false,
        }
    }

    /// The server told this connection its PINGs come too often: the pool's next
    /// connections ping half as often ([`keepalive_backoff`]).
    pub fn too_many_pings(&self) -> bool {
        self.too_many_pings.load(Ordering::Acquire)
    }

    /// Driver: called after each step with the core's count of our streams. True when the
    /// connection stopped taking requests just now.
    pub fn update(&self, conn: &Connection) -> bool {
        let (active, _) = conn.active_streams();
        self.active.store(active, Ordering::Release);
        // At the limit can_open_stream is false too; only a shutdown (GOAWAY sent or
        // received) or exhausted stream ids close the connection to new requests.
        !conn.can_open_stream() && conn.shutdown_state() != ShutdownState::Running && self.finish()
    }

    /// The connection takes no more requests (it goes away, or ended). True the first time:
    /// wake whoever waits on it.
    pub fn finish(&self) -> bool {
        if self.closing.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.ready.store(true, Ordering::Release);
        true
    }
}

/// Where a request goes, by [`pick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Pick {
    /// The connection at this index, a slot reserved there.
    Use(usize),
    /// Every connection is full and none is being opened: open one (and count it as opening).
    Open,
    /// Every connection is full and one is being opened: wait for it, then pick again.
    Wait,
}

/// The first connection with room takes the request (a slot is reserved there); else a new
/// connection, unless one is already being opened. `connections` are those still taking
/// requests; `opening` how many are being opened.
pub fn pick<'a>(connections: impl IntoIterator<Item = &'a Slots>, opening: usize) -> Pick {
    for (i, slots) in connections.into_iter().enumerate() {
        if slots.try_reserve() {
            return Pick::Use(i);
        }
    }
    if opening == 0 {
        Pick::Open
    } else {
        Pick::Wait
    }
}

/// Why a request failed, as far as sending it again is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Not processed by the server (REFUSED_STREAM, above a GOAWAY's last-stream-id, §8.7), or
    /// never started on the connection: safe to send again whatever the method.
    Refused,
    /// The connection failed before the response: the server may have processed it.
    ConnectionFailed,
    /// Anything else: the answer stands.
    Other,
}

/// Whether one request is sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    attempt: u32,
    retry_failed_connection: bool,
}

impl Retry {
    /// A request about to be sent the first time. `idempotent` (RFC 9110 §9.2.2) and
    /// `bodiless` decide whether a failed connection may be retried.
    pub fn new(idempotent: bool, bodiless: bool) -> Retry {
        Retry {
            attempt: 1,
            retry_failed_connection: idempotent && bodiless,
        }
    }

    /// The request failed with `failure` and its body is still whole (`body_whole`: none of it
    /// was read, or it has none). True: send it again (the attempt is counted).
    pub fn again(&mut self, failure: Failure, body_whole: bool) -> bool {
        if !body_whole {
            return false;
        }
        match failure {
            Failure::Refused if self.attempt < MAX_ATTEMPTS => {
                self.attempt += 1;
                true
            }
            Failure::ConnectionFailed | Failure::Refused if self.retry_failed_connection => {
                self.retry_failed_connection = false;
                true
            }
            _ => false,
        }
    }

    /// How many times the request was sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// The keepalive a client's next connection uses after `backoffs` of its connections were
/// told `too_many_pings`: the interval doubles each time (gRPC clients do the same), up to a
/// day; no keepalive stays none.
pub fn keepalive_backoff(config: &Config, backoffs: u32) -> Config {
    let mut config = config.clone();
    config.keepalive_interval = config.keepalive_interval.map(|i| {
        let factor = 1u32 << backoffs.min(16);
        i.saturating_mul(factor)
            .min(Duration::from_secs(24 * 60 * 60))
    });
    config
}
