//! The simulated link: one pipe per direction, each a bounded send queue in front of a
//! serializer (the bandwidth) and a propagation delay with seeded jitter. Bytes arrive in order,
//! as TCP delivers them; loss and retransmission are not modeled (a [`Cut`] is the only loss).
//!
//! A write is accepted only up to the queue's free space, as a socket's send buffer accepts
//! it: the writer keeps the rest and tries again once the serializer has taken bytes.

use crate::rng::Rng;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Duration;

/// One direction of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Bits per second the serializer puts on the wire.
    pub bandwidth: u64,
    /// Bytes the send queue holds (written, not yet on the wire); a write beyond waits.
    pub queue: usize,
    /// Each segment's delay is `delay` plus up to this much, drawn from the seeded generator
    /// (arrivals still keep their order).
    pub jitter: Duration,
    /// The most bytes one segment carries (one arrival at the receiver).
    pub segment: usize,
}

impl PathConfig {
    /// A path with `delay` and `bandwidth` (bits per second), a 1 MiB queue, no jitter and
    /// 16 KiB segments (what segmentation offload hands a socket at a time; smaller segments
    /// only cost simulation time).
    pub fn new(delay: Duration, bandwidth: u64) -> PathConfig {
        PathConfig {
            delay,
            bandwidth,
            queue: 1 << 20,
            jitter: Duration::ZERO,
            segment: 16 * 1024,
        }
    }

    /// Time the serializer takes for `len` bytes.
    fn serialization(&self, len: usize) -> Duration {
        let nanos = (len as u128 * 8 * 1_000_000_000).div_ceil(self.bandwidth.max(1) as u128);
        Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }
}

/// Both directions: `up` carries the client's bytes to the server, `down` the server's to the
/// client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Client to server.
    pub up: PathConfig,
    /// Server to client.
    pub down: PathConfig,
}

impl LinkConfig {
    /// The same path both ways: round-trip time `rtt` (half each way) and `bandwidth` bits per
    /// second in each direction.
    pub fn symmetric(rtt: Duration, bandwidth: u64) -> LinkConfig {
        let path = PathConfig::new(rtt / 2, bandwidth);
        LinkConfig {
            up: path,
            down: path,
        }
    }

    /// Sets the jitter of both directions.
    pub fn with_jitter(mut self, jitter: Duration) -> LinkConfig {
        self.up.jitter = jitter;
        self.down.jitter = jitter;
        self
    }

    /// Sets the send queue of both directions.
    pub fn with_queue(mut self, bytes: usize) -> LinkConfig {
        self.up.queue = bytes;
        self.down.queue = bytes;
        self
    }

    /// The round-trip time without jitter or queueing.
    pub fn rtt(&self) -> Duration {
        self.up.delay + self.down.delay
    }
}

/// How the link breaks at a chosen moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Both endpoints' transports fail at once, as on a TCP reset: writes and reads error, and
    /// each connection learns that its transport is gone (`handle_eof`).
    Reset,
    /// Bytes stop arriving and nothing tells the endpoints, as when a path dies silently:
    /// only the connections' own timers (keepalive PING, write timeout) can find out.
    Silent,
}

/// What arrives at the receiver: bytes, or the end of the sender's stream (its FIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arrival {
    Bytes(Bytes),
    Fin,
}

/// One direction of the link, in virtual time.
#[derive(Debug)]
pub(crate) struct Pipe {
    config: PathConfig,
    rng: Rng,
    /// Written, waiting for the serializer.
    queue: VecDeque<Bytes>,
    queued: usize,
    /// When the serializer is free for the next segment.
    busy_until: Duration,
    /// On the wire, by arrival time (non-decreasing).
    in_flight: VecDeque<(Duration, Arrival)>,
    last_arrival: Duration,
    fin_pending: bool,
    fin_sent: bool,
    cut: Option<Cut>,
    /// The most bytes the queue held at once.
    pub(crate) peak_queued: usize,
}

impl Pipe {
    pub(crate) fn new(config: PathConfig, seed: u64) -> Pipe {
        Pipe {
            config,
            rng: Rng::new(seed),
            queue: VecDeque::new(),
            queued: 0,
            busy_until: Duration::ZERO,
            in_flight: VecDeque::new(),
            last_arrival: Duration::ZERO,
            fin_pending: false,
            fin_sent: false,
            cut: None,
            peak_queued: 0,
        }
    }

    /// Writes what fits of `data` at `now`; returns how many bytes were taken (0 when the
    /// queue is full, or after the sender's FIN).
    pub(crate) fn write(&mut self, now: Duration, data: &[u8]) -> usize {
        if self.fin_pending || self.fin_sent {
            return 0;
        }
        let n = data
            .len()
            .min(self.config.queue.saturating_sub(self.queued));
        if n == 0 {
            return 0;
        }
        if self.queue.is_empty() {
            // An idle serializer starts with the first byte written.
            self.busy_until = self.busy_until.max(now);
        }
        self.queue.push_back(Bytes::copy_from_slice(&data[..n]));
        self.queued += n;
        self.peak_queued = self.peak_queued.max(self.queued);
        n
    }

    /// The sender is done (FIN): it arrives after everything queued.
    pub(crate) fn shutdown(&mut self, now: Duration) {
        if !self.fin_pending && !self.fin_sent {
            self.fin_pending = true;
            if self.queue.is_empty() {
                self.busy_until = self.busy_until.max(now);
            }
        }
    }

    /// Puts on the wire every segment whose serialization starts by `now`.
    pub(crate) fn advance(&mut self, now: Duration) {
        if self.cut == Some(Cut::Silent) {
            return;
        }
        while self.busy_until <= now {
            let arrival = if let Some(front) = self.queue.front_mut() {
                let n = front.len().min(self.config.segment.max(1));
                let seg = if n == front.len() {
                    self.queue.pop_front().unwrap_or_default()
                } else {
                    front.split_to(n)
                };
                self.queued -= n;
                self.busy_until += self.config.serialization(n);
                Arrival::Bytes(seg)
            } else if self.fin_pending {
                self.fin_pending = false;
                self.fin_sent = true;
                Arrival::Fin
            } else {
                return;
            };
            let jitter = Duration::from_nanos(self.rng.up_to(self.config.jitter.as_nanos() as u64));
            // In order, as TCP delivers: a segment never overtakes the one before it.
            let at = (self.busy_until + self.config.delay + jitter).max(self.last_arrival);
            self.last_arrival = at;
            self.in_flight.push_back((at, arrival));
        }
    }

    /// The next arrival due by `now`, if any.
    pub(crate) fn deliver(&mut self, now: Duration) -> Option<Arrival> {
        match self.in_flight.front() {
            Some((at, _)) if *at <= now => self.in_flight.pop_front().map(|(_, a)| a),
            _ => None,
        }
    }

    /// When this pipe next changes: a segment starts serializing or one arrives.
    pub(crate) fn next_event(&self) -> Option<Duration> {
        let start = (self.cut != Some(Cut::Silent) && (!self.queue.is_empty() || self.fin_pending))
            .then_some(self.busy_until);
        let arrival = self.in_flight.front().map(|(at, _)| *at);
        [start, arrival].into_iter().flatten().min()
    }

    /// The link breaks: what is on the wire is lost. After a reset the queue is gone too;
    /// after a silent cut it stays and fills, and nothing more moves.
    pub(crate) fn cut(&mut self, how: Cut) {
        self.cut = Some(how);
        self.in_flight.clear();
        if how == Cut::Reset {
            self.queue.clear();
            self.queued = 0;
            self.fin_pending = false;
        }
    }

    /// Bytes written and not yet on the wire.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn drain(pipe: &mut Pipe, now: Duration) -> Vec<Arrival> {
        pipe.advance(now);
        std::iter::from_fn(|| pipe.deliver(now)).collect()
    }

    #[test]
    fn bytes_arrive_after_serialization_and_delay() {
        // 8 Mbit/s: 1,000 bytes take 1 ms on the wire, then 10 ms of propagation.
        let mut pipe = Pipe::new(PathConfig::new(10 * MS, 8_000_000), 1);
        assert_eq!(pipe.write(Duration::ZERO, &[7; 1000]), 1000);
        pipe.advance(Duration::ZERO);
        assert_eq!(pipe.next_event(), Some(11 * MS));
        assert!(drain(&mut pipe, 11 * MS - Duration::from_nanos(1)).is_empty());
        assert_eq!(
            drain(&mut pipe, 11 * MS),
            vec![Arrival::Bytes(Bytes::from(vec![7; 1000]))]
        );
    }

    #[test]
    fn a_full_queue_takes_nothing_until_the_serializer_drains_it() {
        let mut config = PathConfig::new(MS, 8_000_000);
        config.queue = 2000;
        config.segment = 1000;
        let mut pipe = Pipe::new(config, 1);
        assert_eq!(pipe.write(Duration::ZERO, &[0; 5000]), 2000);
        assert_eq!(pipe.write(Duration::ZERO, &[0; 10]), 0);
        pipe.advance(Duration::ZERO);
        // The first segment is on the wire: its 1,000 bytes left the queue.
        assert_eq!(pipe.write(Duration::ZERO, &[0; 5000]), 1000);
        assert_eq!(pipe.queued(), 2000);
    }

    #[test]
    fn jitter_never_reorders_and_fin_comes_last() {
        let mut config = PathConfig::new(MS, 1_000_000_000);
        config.jitter = 5 * MS;
        config.segment = 100;
        let mut pipe = Pipe::new(config, 42);
        let data: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        assert_eq!(pipe.write(Duration::ZERO, &data), data.len());
        pipe.shutdown(Duration::ZERO);
        let got = drain(&mut pipe, 100 * MS);
        assert_eq!(got.last(), Some(&Arrival::Fin));
        let bytes: Vec<u8> = got
            .iter()
            .filter_map(|a| match a {
                Arrival::Bytes(b) => Some(b.to_vec()),
                Arrival::Fin => None,
            })
            .flatten()
            .collect();
        assert_eq!(bytes, data);
    }

    #[test]
    fn a_cut_loses_what_is_on_the_wire() {
        let mut pipe = Pipe::new(PathConfig::new(10 * MS, 8_000_000), 1);
        pipe.write(Duration::ZERO, &[1; 100]);
        pipe.advance(Duration::ZERO);
        pipe.cut(Cut::Silent);
        assert!(drain(&mut pipe, 100 * MS).is_empty());
        pipe.write(Duration::ZERO, &[1; 100]);
        assert_eq!(pipe.next_event(), None);
    }
}
