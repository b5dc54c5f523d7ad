//! Guards against abusive or stuck peers (RFC 9113 §10.5), each against one of the
//! [`Limits`](crate::Limits) of the configuration:
//! - [`FloodCounters`]: frames a peer can send in bulk at little cost to itself, counted per
//!   window: resets (CVE-2023-44487), empty frames (CVE-2019-9518), PRIORITY frames
//!   (CVE-2019-9513); also the SETTINGS size (CVE-2020-11080) and the header field count;
//! - [`Unwritten`]: output backpressure for a peer that does not read: the replies it asks for
//!   and has not taken (CVE-2019-9512, CVE-2019-9515), and the write timeout;
//! - [`Liveness`]: the handshake and idle deadlines.
//!
//! Output backpressure, sans-IO: the core cannot see the socket, so it relies on the adapter's
//! contract: *call `poll_transmit` again only once the previous batch is written* (and after any
//! call that may have queued output). A batch handed out is therefore unflushed until the next
//! `poll_transmit`; replies in it still count against
//! [`Limits::max_pending_control_frames`](crate::Limits), and if the core has more to write
//! while the adapter has not come back for [`Config::write_timeout`](crate::Config), the
//! transport is stuck: the connection ends and [`Connection::is_closed`] lets the adapter drop
//! it. Meanwhile [`Connection::wants_read`] turns false while more than
//! [`Limits::max_queued_output`](crate::Limits) bytes wait in the core, so a peer that writes but
//! never reads is pushed back by TCP instead of growing our buffers.

use super::{Connection, Phase};
use crate::error::{ConnectionError, ProtocolError};
use crate::frame::{Reason, Settings};
use std::time::Instant;

/// Flood counters (§10.5), reset every [`Limits::reset_window`](crate::Limits).
#[derive(Debug, Default)]
pub(crate) struct FloodCounters {
    /// When the current window started (at the first counted frame).
    window_start: Option<Instant>,
    /// RST_STREAM frames, ours and the peer's, in the window (CVE-2023-44487).
    resets: u32,
    /// Empty DATA and header blocks without END_STREAM in the window (CVE-2019-9518).
    empty_frames: u32,
    /// PRIORITY and PRIORITY_UPDATE frames in the window (CVE-2019-9513).
    priority_frames: u32,
}

/// What the core produced that the peer has not been seen to take.
#[derive(Debug, Default)]
pub(crate) struct Unwritten {
    /// PING and SETTINGS ACKs queued since the last `poll_transmit`.
    pub(crate) replies_queued: usize,
    /// PING and SETTINGS ACKs in the batch the adapter is writing: not yet known to be written.
    replies_in_flight: usize,
    /// When the last non-empty batch was handed out by `poll_transmit`, if the adapter has not
    /// come back since (it is still writing it).
    batch_at: Option<Instant>,
    /// Bytes of the batch last handed out: the adapter may still hold them (memory budget).
    pub(crate) last_batch: usize,
}

/// The handshake and idle deadlines.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// When the connection was created: the handshake deadline counts from here.
    started: Instant,
    /// Since when no stream is active (None while one is).
    idle_since: Option<Instant>,
    /// `stats.streams_opened` at the last idle check: a stream opened and closed between two
    /// checks is still activity.
    seen_opened: u64,
}

impl Liveness {
    pub(crate) fn new(now: Instant) -> Liveness {
        Liveness {
            started: now,
            idle_since: Some(now),
            seen_opened: 0,
        }
    }
}

impl Connection {
    /// Bytes of frames queued in the core and not yet handed to `poll_transmit` (DATA is cut
    /// only when `poll_transmit` runs, so this is control frames and header blocks).
    pub fn queued_output(&self) -> usize {
        self.out.len()
    }

    /// Streams the connection keeps state for: open, reserved, waiting for a slot, and the
    /// recently closed ones it remembers (bounded by the limits; for memory accounting).
    pub fn tracked_streams(&self) -> usize {
        self.streams.len()
    }

    /// Streams in the reserved (remote) state (§5.1): promised to us, not yet answered.
    pub(crate) fn reserved_streams(&self) -> usize {
        self.streams
            .iter()
            .filter(|s| s.state == crate::stream::state::State::ReservedRemote)
            .count()
    }

    /// `poll_transmit` handed out `total` bytes, of which `replies` were PING/SETTINGS ACKs.
    pub(crate) fn after_transmit(&mut self, now: Instant, total: usize, replies: usize) {
        if total > 0 {
            self.unwritten.batch_at = Some(now);
            self.unwritten.replies_in_flight = replies;
        } else {
            self.unwritten.batch_at = None;
            self.unwritten.replies_in_flight = 0;
        }
        self.track_idle(now);
    }

    /// Notes whether the connection is idle: no active stream, no request waiting for a slot,
    /// and no stream opened since the last check. A header block still arriving does not count
    /// (as in Go, a stream is only open once its headers are): a peer trickling CONTINUATION
    /// frames cannot hold an idle connection open.
    fn track_idle(&mut self, now: Instant) {
        let opened = self.stats.streams_opened;
        let busy = self.streams.active_local + self.streams.active_remote > 0
            || !self.pending_open.is_empty()
            || opened != self.liveness.seen_opened;
        self.liveness.seen_opened = opened;
        if busy {
            self.liveness.idle_since = None;
        } else if self.liveness.idle_since.is_none() {
            self.liveness.idle_since = Some(now);
        }
    }

    /// True while the core has something to write: queued frames, or DATA a stream may send.
    fn has_output(&self) -> bool {
        !self.out.is_empty()
            || (self.send_window.available() > 0 && self.scheduler.next().is_some())
    }

    /// The guards' deadlines, for `poll_timeout`.
    pub(crate) fn guard_deadline(&self) -> Option<Instant> {
        let handshake = matches!(
            self.phase,
            Phase::AwaitingPreface(_) | Phase::AwaitingSettings
        )
        .then(|| self.liveness.started + self.config.handshake_timeout);
        let idle = match (self.config.idle_timeout, self.liveness.idle_since) {
            (Some(t), Some(since)) if self.phase == Phase::Open && self.goaway.sent.is_none() => {
                Some(since + t)
            }
            _ => None,
        };
        let stall = match (self.config.write_timeout, self.unwritten.batch_at) {
            (Some(t), Some(at)) if self.has_output() => Some(at + t),
            _ => None,
        };
        [handshake, idle, stall].into_iter().flatten().min()
    }

    /// Fires the guards' deadlines that are due. Returns true if the connection ended.
    pub(crate) fn guard_timeout(&mut self, now: Instant) -> bool {
        if matches!(
            self.phase,
            Phase::AwaitingPreface(_) | Phase::AwaitingSettings
        ) && now >= self.liveness.started + self.config.handshake_timeout
        {
            // Slow or absent preface: §3.4 makes SETTINGS the first frame of both prefaces;
            // it did not come (SETTINGS_TIMEOUT, as our own unacknowledged SETTINGS would).
            self.connection_error(
                ConnectionError {
                    reason: Reason::SETTINGS_TIMEOUT,
                    detail: "connection preface not received in time",
                },
                now,
            );
            return true;
        }
        if let (Some(t), Some(at)) = (self.config.write_timeout, self.unwritten.batch_at) {
            if now >= at + t && self.has_output() {
                // The transport has not taken our last batch for this long while more waits:
                // the peer does not read. Nothing we queue can reach it, so drop the output
                // and let the adapter close the transport at once (`is_closed`).
                self.connection_error(
                    ConnectionError {
                        reason: Reason::ENHANCE_YOUR_CALM,
                        detail: "peer does not read (write timeout)",
                    },
                    now,
                );
                self.out.clear();
                self.unwritten.batch_at = None;
                return true;
            }
        }
        self.track_idle(now);
        if let (Some(t), Some(since)) = (self.config.idle_timeout, self.liveness.idle_since) {
            if self.phase == Phase::Open && self.goaway.sent.is_none() && now >= since + t {
                // An idle connection is closed gracefully (GOAWAY NO_ERROR), as Go's
                // IdleTimeout does; PINGs alone do not keep it open.
                tracing::debug!("idle timeout");
                let _ = self.shutdown(now);
            }
        }
        false
    }

    /// Rapid reset guard (CVE-2023-44487): resets per window, ours and the peer's.
    pub(crate) fn count_reset(&mut self, now: Instant) -> std::result::Result<(), ConnectionError> {
        self.roll_flood_window(now);
        self.flood.resets += 1;
        if self.flood.resets > self.config.limits.max_resets_per_window {
            let err = ConnectionError {
                reason: Reason::ENHANCE_YOUR_CALM,
                detail: "too many stream resets",
            };
            self.connection_error(err, now);
            return Err(err);
        }
        Ok(())
    }

    /// Starts a new flood window when the current one is over.
    fn roll_flood_window(&mut self, now: Instant) {
        let start = *self.flood.window_start.get_or_insert(now);
        if now.saturating_duration_since(start) >= self.config.limits.reset_window {
            self.flood.window_start = Some(now);
            self.flood.resets = 0;
            self.flood.empty_frames = 0;
            self.flood.priority_frames = 0;
        }
    }

    /// CVE-2019-9518: empty frames (no payload, no END_STREAM) per flood window.
    pub(crate) fn count_empty_frame(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.roll_flood_window(now);
        self.flood.empty_frames += 1;
        if self.flood.empty_frames > self.config.limits.max_empty_frames_per_window {
            return Err(ProtocolError::connection(
                Reason::ENHANCE_YOUR_CALM,
                "too many empty frames",
            ));
        }
        Ok(())
    }

    /// Too many replies queued and not written: the peer does not read what it asks for
    /// (CVE-2019-9512 PING flood, CVE-2019-9515 SETTINGS flood). Replies in the batch the
    /// adapter is still writing count too (see the module documentation).
    pub(crate) fn check_reply_queue(&self) -> Result<(), ProtocolError> {
        let unwritten = self.unwritten.replies_queued + self.unwritten.replies_in_flight;
        if unwritten > self.config.limits.max_pending_control_frames {
            return Err(ProtocolError::connection(
                Reason::ENHANCE_YOUR_CALM,
                "peer does not read our replies",
            ));
        }
        Ok(())
    }

    /// CVE-2019-9513 (resource loop): PRIORITY and PRIORITY_UPDATE frames per flood window.
    /// Each may reshape the dependency tree; a flood of them only costs us.
    pub(crate) fn count_priority_frame(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.roll_flood_window(now);
        self.flood.priority_frames += 1;
        if self.flood.priority_frames > self.config.limits.max_priority_frames_per_window {
            return Err(ProtocolError::connection(
                Reason::ENHANCE_YOUR_CALM,
                "too many PRIORITY frames",
            ));
        }
        Ok(())
    }

    /// CVE-2020-11080: a SETTINGS frame with many entries costs a pass over every stream per
    /// entry that changes a window; more than a handful is abuse (nghttp2 allows 32).
    pub(crate) fn check_settings_entries(&self, f: &Settings) -> Result<(), ProtocolError> {
        if f.settings.len() > self.config.limits.max_settings_entries {
            return Err(ProtocolError::connection(
                Reason::ENHANCE_YOUR_CALM,
                "too many entries in one SETTINGS frame",
            ));
        }
        Ok(())
    }
}
