//! PING (RFC 9113 §6.7): answers, round-trip time, and keepalive.

use super::Connection;
use crate::config::Config;
use crate::error::ConnectionError;
use crate::frame::Reason;
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
}

/// A PING sooner than this after the previous one, with no stream active, is a strike when
/// the policy does not permit PINGs without streams (grpc-go's `defaultPingTimeout`).
const IDLE_PING_INTERVAL: Duration = Duration::from_secs(2 * 60 * 60);

/// The payload of keepalive PINGs, to tell their ACKs from the application's.
pub(crate) const KEEPALIVE: [u8; 8] = *b"h2keepal";

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
