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
}

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
