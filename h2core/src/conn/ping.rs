//! PING (RFC 9113 §6.7): answers, round-trip time, keepalive, and the bandwidth-delay
//! product samples of adaptive receive windows (§6.9, [`Config::adaptive_windows`]).
//!
//! A BDP sample is a PING of its own payload, sent when DATA arrives and no sample is
//! outstanding, so at most one per round trip and none while no DATA flows: a peer that polices
//! PINGs (gRPC's `too_many_pings`, which forgives PINGs that follow its DATA) is not tripped.
//! Its ACK grows the windows we grant (within [`Config::memory_budget`]) and is no event.

use super::Connection;
use crate::config::Config;
use crate::error::ConnectionError;
use crate::flow::{Bdp, DEFAULT_WINDOW};
use crate::frame::{Reason, StreamId};
use std::time::{Duration, Instant};

/// Keepalive state: at most one PING of ours is outstanding at a time.
#[derive(Debug)]
pub(crate) struct Ping {
    /// Our PING awaiting its ACK: payload and when it was sent.
    pub outstanding: Option<([u8; 8], Instant)>,
    /// Last time anything arrived from the peer.
    pub last_heard: Instant,
    pub interval: Option<Duration>,
    pub timeout: Duration,
    /// The last measured round-trip time.
    pub rtt: Option<Duration>,
    /// The peer's last PING (not an ACK), for `Config::ping_policy`.
    pub last_received: Option<Instant>,
    /// PINGs the peer sent too soon.
    pub strikes: u32,
    /// We sent HEADERS or DATA since the peer's last PING: its next one clears the strikes.
    pub answered_since: bool,
    /// Adaptive windows: the bandwidth-delay product estimate (None when off).
    pub bdp: Option<Bdp>,
}

/// A PING sooner than this after the previous one, with no stream active, is a strike when
/// the policy does not permit PINGs without streams (grpc-go's `defaultPingTimeout`).
const IDLE_PING_INTERVAL: Duration = Duration::from_secs(2 * 60 * 60);

/// The payload of keepalive PINGs, to tell their ACKs from the application's.
pub(crate) const KEEPALIVE: [u8; 8] = *b"h2keepal";

/// The payload of BDP sample PINGs (adaptive windows), with their own outstanding slot: they
/// never delay the application's or the keepalive's PINGs.
pub(crate) const BDP_PING: [u8; 8] = *b"h2bdpest";

impl Ping {
    pub(crate) fn new(config: &Config, now: Instant) -> Ping {
        Ping {
            outstanding: None,
            last_heard: now,
            interval: config.keepalive_interval,
            timeout: config.keepalive_timeout,
            rtt: None,
            last_received: None,
            strikes: 0,
            answered_since: false,
            bdp: config.adaptive_windows.then(|| {
                let cap = config.max_stream_window.min(config.recv_window_cap());
                Bdp::new(config.settings.initial_window_size.max(DEFAULT_WINDOW), cap)
            }),
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.outstanding {
            Some((payload, sent)) if payload == KEEPALIVE => Some(sent + self.timeout),
            Some(_) => None,
            None => self.interval.map(|i| self.last_heard + i),
        }
    }
}

impl Connection {
    /// The last round-trip time measured by a PING (§6.7).
    pub fn rtt(&self) -> Option<Duration> {
        self.ping.rtt
    }

    /// The peer sent a PING: true if `Config::ping_policy` says it has sent too many.
    pub(crate) fn ping_strikes_out(&mut self, now: Instant) -> bool {
        let Some(policy) = self.config.ping_policy else {
            return false;
        };
        let previous = self.ping.last_received.replace(now);
        if std::mem::take(&mut self.ping.answered_since) {
            self.ping.strikes = 0;
            return false;
        }
        let active = self.streams.active_local + self.streams.active_remote > 0;
        let least = if active || policy.permit_without_streams {
            policy.min_interval
        } else {
            IDLE_PING_INTERVAL
        };
        if previous.is_some_and(|p| now < p + least) {
            self.ping.strikes += 1;
        }
        self.ping.strikes > policy.max_strikes
    }

    pub(crate) fn ping_timeout(&mut self, now: Instant) {
        match self.ping.outstanding {
            Some((payload, sent)) if payload == KEEPALIVE => {
                if now >= sent + self.ping.timeout {
                    // The peer is gone or stuck; say so before closing.
                    self.connection_error(
                        ConnectionError {
                            reason: Reason::NO_ERROR,
                            detail: "keepalive PING not answered",
                        },
                        now,
                    );
                }
            }
            Some(_) => {}
            None => {
                if let Some(interval) = self.ping.interval {
                    if now >= self.ping.last_heard + interval {
                        self.ping.outstanding = Some((KEEPALIVE, now));
                        self.write_ping(false, KEEPALIVE);
                    }
                }
            }
        }
    }
}

impl Connection {
    /// `n` flow-controlled DATA bytes arrived: part of the outstanding BDP sample, or the
    /// start of one (a PING) when none is outstanding and the estimate is not resting.
    pub(crate) fn bdp_on_data(&mut self, n: u32, now: Instant) {
        if n == 0 || self.phase != super::Phase::Open || self.goaway.sent.is_some() {
            return;
        }
        if let Some(bdp) = &mut self.ping.bdp {
            if bdp.on_data(n, now) {
                self.write_ping(false, BDP_PING);
            }
        }
    }

    /// Our BDP PING was answered: if the estimate grew, so does the connection window (four
    /// times the estimate: it serves every stream; within the cap and what the memory budget
    /// leaves, which bound what it can hold anyway); streams grow toward
    /// the estimate as their application reads (`adapt_stream_window`).
    pub(crate) fn bdp_acked(&mut self, now: Instant) -> bool {
        let Some(bdp) = &mut self.ping.bdp else {
            return false;
        };
        let Some(sent) = bdp.sent_at else {
            return false;
        };
        self.ping.rtt = Some(now.saturating_duration_since(sent));
        let Some(estimate) = bdp.on_ack(now) else {
            return true;
        };
        self.grow_connection_window(estimate as u64 * 4);
        let policy = self.config.window_policy;
        // Streams whose readers keep up grow now rather than at their next read: on a
        // window-limited path DATA comes in bursts a round trip apart. At most once per round
        // trip, while the estimate grows.
        let mut updates = Vec::new();
        for s in self.streams.iter_mut() {
            if s.state.can_recv() && !s.discard_recv && s.recv.unread() < s.recv.target / 4 {
                s.recv.grow_to(estimate);
                if let Some(inc) = s.recv.release(0, &policy) {
                    updates.push((s.id, inc));
                }
            }
        }
        // In stream order, so output does not depend on the store's hashing.
        updates.sort_unstable_by_key(|(id, _)| id.value());
        for (id, inc) in updates {
            self.write_window_update(id, inc);
        }
        true
    }

    /// Adaptive windows: the connection window we grant covers the initial windows of the
    /// streams we opened and that may still receive (§6.9.1: their DATA counts against it
    /// too, so a connection window below their sum holds every one of them back), within the
    /// memory budget. Called as our requests go out; it only grows (a window cannot be taken
    /// back, §6.9), and stays the configured `connection_window` while that covers them
    /// (one or two requests by default). 100 downloads opened at once are granted the budget's
    /// share in their first round trip, rather than only after BDP samples show the window
    /// was the limit (two round trips at a fraction of the link). Only our own requests count:
    /// a peer cannot make us grant more by opening or promising streams (§10.5), only by
    /// sending DATA fast enough for the BDP samples.
    pub(crate) fn cover_requests(&mut self) {
        if self.ping.bdp.is_none() || matches!(self.phase, super::Phase::Closed) {
            return;
        }
        // What our SETTINGS announce: what each stream has once they are in force.
        let initial = self
            .pending_settings
            .latest()
            .unwrap_or(&self.local)
            .initial_window_size;
        let streams = u64::from(self.streams.receiving_local);
        self.grow_connection_window(streams * u64::from(initial));
    }

    /// Raises the connection window we grant toward `want` bytes: no further than
    /// [`Config::recv_window_cap`] and what the memory budget leaves beside the bytes held to
    /// send (so received-and-unread plus queued-to-send stays within the budget). The growth
    /// goes out in a WINDOW_UPDATE on stream 0 (§6.9.1) when the window policy says so.
    fn grow_connection_window(&mut self, want: u64) {
        if want <= u64::from(self.recv_window.target) {
            return;
        }
        let room = self
            .config
            .memory_budget
            .saturating_sub(self.send_held())
            .min(crate::frame::MAX_WINDOW_SIZE as usize) as u64;
        let target = want.min(u64::from(self.config.recv_window_cap())).min(room) as u32;
        if target > self.recv_window.target {
            self.recv_window.grow_to(target);
            let policy = self.config.window_policy;
            if let Some(inc) = self.recv_window.release(0, &policy) {
                self.write_window_update(StreamId::ZERO, inc);
            }
        }
    }

    /// Adaptive windows, as the application releases bytes of a stream: a reader that kept
    /// up (less than a quarter of the window unread) lets the window grow to the estimate; one
    /// that fell behind (half the window or more unread, e.g. it stopped reading) shrinks it
    /// back to the initial window, by returning less of what it releases from now on.
    pub(crate) fn adapt_stream_window(&mut self, id: StreamId) {
        let Some(estimate) = self.ping.bdp.map(|b| b.estimate) else {
            return;
        };
        if self.pending_settings.oldest().is_some() {
            // Our SETTINGS are not in force yet: their ACK moves every stream's window by the
            // new initial size (§6.9.2), so growing toward the estimate now would count it
            // twice.
            return;
        }
        let floor = self.local.initial_window_size;
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        let w = &mut s.recv;
        let unread = w.unread();
        if unread >= w.target / 2 {
            if w.target > floor {
                w.shrink_to(floor);
            }
        } else if unread < w.target / 4 {
            w.grow_to(estimate);
        }
    }

    /// Bytes held to send: DATA queued on streams, frames queued in the core, and the batch
    /// last handed out (the adapter may still be writing it).
    pub(crate) fn send_held(&self) -> usize {
        self.streams.send_buffered_total + self.out.len() + self.unwritten.last_batch
    }

    /// What the memory budget still lets the application queue to send: the budget less the
    /// connection window we granted (the most that can arrive and wait unread) and what is
    /// already held to send.
    pub(crate) fn budget_room(&self) -> usize {
        let promised = self.recv_window.target as usize + self.recv_window.debt as usize;
        self.config
            .memory_budget
            .saturating_sub(promised + self.send_held())
    }
}
