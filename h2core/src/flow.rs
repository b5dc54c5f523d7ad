//! Flow control (RFC 9113 §5.2, §6.9).
//!
//! [`Window`] is the signed window of §6.9.2 (SETTINGS_INITIAL_WINDOW_SIZE changes can make it
//! negative) with checked arithmetic: any window above 2^31-1 is a FLOW_CONTROL_ERROR. The policy
//! of *when* to return received bytes to the peer with WINDOW_UPDATE lives in one small object,
//! [`WindowPolicy`], so it is not spread over the connection.

use crate::frame::MAX_WINDOW_SIZE;
use std::time::{Duration, Instant};

/// The §6.9.1 initial window of every stream and of the connection.
pub(crate) const DEFAULT_WINDOW: u32 = 65_535;

/// A flow-control window (§6.9). Signed: §6.9.2 lets a change of SETTINGS_INITIAL_WINDOW_SIZE
/// make a send window negative; it then must grow back above zero before DATA flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Window(i32);

/// The window would exceed 2^31-1 (§6.9.1): a FLOW_CONTROL_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowOverflow;

impl Window {
    /// A window of `size` bytes; `size` is at most 2^31-1.
    pub(crate) const fn new(size: u32) -> Window {
        Window(if size > MAX_WINDOW_SIZE {
            MAX_WINDOW_SIZE as i32
        } else {
            size as i32
        })
    }

    /// The window as a signed value.
    pub(crate) const fn get(self) -> i32 {
        self.0
    }

    /// How many bytes may be sent now (0 when the window is zero or negative).
    pub(crate) const fn available(self) -> u32 {
        if self.0 > 0 {
            self.0 as u32
        } else {
            0
        }
    }

    /// §6.9.1: a WINDOW_UPDATE of `increment`; fails if the window would exceed 2^31-1.
    pub(crate) fn increase(&mut self, increment: u32) -> Result<(), WindowOverflow> {
        let next = self.0 as i64 + increment as i64;
        if next > MAX_WINDOW_SIZE as i64 {
            return Err(WindowOverflow);
        }
        self.0 = next as i32;
        Ok(())
    }

    /// §6.9.2: SETTINGS_INITIAL_WINDOW_SIZE changed by `delta` (may be negative).
    pub(crate) fn adjust(&mut self, delta: i64) -> Result<(), WindowOverflow> {
        let next = self.0 as i64 + delta;
        if next > MAX_WINDOW_SIZE as i64 {
            return Err(WindowOverflow);
        }
        // Cannot go below -(2^31-1): both the old window and the new initial size are in range.
        self.0 = next.max(i32::MIN as i64 + 1) as i32;
        Ok(())
    }

    /// `n` flow-controlled bytes were sent or received. Returns false (and changes nothing)
    /// when `n` exceeds the window: for a receive window that is the peer's FLOW_CONTROL_ERROR.
    pub(crate) fn consume(&mut self, n: u32) -> bool {
        if n as i64 > self.0 as i64 {
            return false;
        }
        self.0 -= n as i32;
        true
    }
}

/// When to send WINDOW_UPDATE for bytes the application has consumed (RFC 9113 §6.9).
///
/// Received bytes are *released* by the application (`release_capacity`); the policy decides
/// when the released total is worth a WINDOW_UPDATE. Waiting for a fraction of the target
/// window avoids a frame per small read; releasing always eventually reaches the threshold, so a
/// window cannot stay stuck at zero. A window that adaptive windows grew beyond its initial size
/// waits for a quarter as much (`target / (4 * divisor)`): sized near the bandwidth-delay
/// product (or within a memory budget below it), it must not hold back half of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPolicy {
    /// Send WINDOW_UPDATE once the released bytes reach `target / divisor`.
    pub divisor: u32,
}

impl Default for WindowPolicy {
    fn default() -> Self {
        // Half the window: the choice of nghttp2 and Go, one update per half window consumed.
        WindowPolicy { divisor: 2 }
    }
}

impl WindowPolicy {
    /// Returns the increment to send now, if any, given `released` bytes not yet returned to the
    /// peer and the window `target` we want the peer to see.
    pub fn increment(&self, released: u32, target: u32) -> Option<u32> {
        let threshold = (target / self.divisor.max(1)).max(1);
        (released >= threshold).then_some(released)
    }
}

/// The receive side of one window: what the peer may still send, and what the application has
/// consumed but we have not yet returned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecvWindow {
    /// Bytes the peer may still send before violating flow control.
    pub window: Window,
    /// Bytes received and released by the application, not yet returned by WINDOW_UPDATE.
    pub released: u32,
    /// The window size we aim to keep open for the peer.
    pub target: u32,
    /// Bytes to withhold from future releases after the target shrank (adaptive windows): a
    /// window cannot be taken back on the wire, only returned less (§6.9).
    pub debt: u32,
    /// The configured size: a target above it was grown by adaptive windows.
    pub base: u32,
}

impl RecvWindow {
    /// A receive window of `size` bytes.
    pub(crate) fn new(size: u32) -> RecvWindow {
        RecvWindow {
            window: Window::new(size),
            released: 0,
            target: size,
            debt: 0,
            base: size,
        }
    }

    /// Bytes received and not yet released by the application.
    pub(crate) fn unread(&self) -> u32 {
        let held =
            self.target as i64 + self.debt as i64 - self.window.get() as i64 - self.released as i64;
        held.clamp(0, u32::MAX as i64) as u32
    }

    /// Raises the target to `target`: the difference is owed to the peer, paid first from
    /// any debt, the rest by the next WINDOW_UPDATE.
    pub(crate) fn grow_to(&mut self, target: u32) {
        if target <= self.target {
            return;
        }
        let g = target - self.target;
        let pay = g.min(self.debt);
        self.debt -= pay;
        self.released = self.released.saturating_add(g - pay);
        self.target = target;
    }

    /// Lowers the target to `target`: the difference is withheld, first from bytes released
    /// and not yet returned, then from future releases.
    pub(crate) fn shrink_to(&mut self, target: u32) {
        if target >= self.target {
            return;
        }
        let d = self.target - target;
        let take = d.min(self.released);
        self.released -= take;
        self.debt = self.debt.saturating_add(d - take);
        self.target = target;
    }

    /// The application consumed `n` received bytes; returns the WINDOW_UPDATE increment to send
    /// now, if the policy says so.
    pub(crate) fn release(&mut self, n: u32, policy: &WindowPolicy) -> Option<u32> {
        let pay = n.min(self.debt);
        self.debt -= pay;
        self.released = self.released.saturating_add(n - pay);
        let policy = if self.target > self.base {
            WindowPolicy {
                divisor: policy.divisor.saturating_mul(4),
            }
        } else {
            *policy
        };
        let inc = policy.increment(self.released, self.target)?;
        // Never announce more than keeps the window within 2^31-1 (§6.9.1).
        let room = MAX_WINDOW_SIZE as i64 - self.window.get() as i64;
        let inc = (inc as i64).min(room) as u32;
        if inc == 0 {
            return None;
        }
        self.released -= inc;
        self.window.increase(inc).ok()?;
        Some(inc)
    }
}

/// The bandwidth-delay product estimate of adaptive windows, after gRPC's BDP estimator and
/// hyper's `bdp.rs`: one PING round trip at a time while DATA flows, the bytes received during
/// it are a sample; a sample of at least two thirds of the estimate, at a bandwidth no lower
/// than the best seen, doubles the estimate to twice the sample (the window was the limit).
/// A stable estimate spaces the samples out (up to [`MAX_SAMPLE_DELAY`]), so a long transfer
/// sends few PINGs; the PINGs only follow received DATA, so an idle connection sends none.
///
/// Generic over its time points ([`Moment`]): the connection's `Instant`s, or, in its unit
/// test, offsets from an origin, so the test needs no clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bdp<T = Instant> {
    /// The estimate: the window a stream needs, in bytes.
    pub estimate: u32,
    /// The estimate never grows beyond this.
    cap: u32,
    /// The best bandwidth seen, in bytes per second.
    max_bandwidth: f64,
    /// The least round-trip time seen, in seconds (0: none yet).
    min_rtt: f64,
    /// Bytes received since the outstanding sample's PING was sent.
    pub sample: u64,
    /// The sample's PING, when it was sent.
    pub sent_at: Option<T>,
    /// No sample starts before this (the estimate is stable).
    pub next_at: Option<T>,
    /// The pause after a stable sample.
    delay: Duration,
    /// Stable samples in a row.
    stable: u32,
}

/// The longest pause between two samples of a stable estimate (hyper: 10 s).
pub(crate) const MAX_SAMPLE_DELAY: Duration = Duration::from_secs(10);

/// A point in time as [`Bdp`] uses it.
pub(crate) trait Moment: Copy + PartialOrd + std::ops::Add<Duration, Output = Self> {
    /// The time from `earlier` to `self` (zero if `earlier` is later).
    fn since(self, earlier: Self) -> Duration;
}

impl Moment for Instant {
    fn since(self, earlier: Self) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

#[cfg(test)]
impl Moment for Duration {
    fn since(self, earlier: Self) -> Duration {
        self.saturating_sub(earlier)
    }
}

impl<T: Moment> Bdp<T> {
    /// An estimate starting at `initial` bytes, never above `cap`.
    pub(crate) fn new(initial: u32, cap: u32) -> Bdp<T> {
        Bdp {
            estimate: initial.min(cap),
            cap,
            max_bandwidth: 0.0,
            min_rtt: 0.0,
            sample: 0,
            sent_at: None,
            next_at: None,
            delay: Duration::ZERO,
            stable: 0,
        }
    }

    /// `n` DATA bytes arrived at `now`; true if a sample's PING should go out now.
    pub(crate) fn on_data(&mut self, n: u32, now: T) -> bool {
        if self.sent_at.is_some() {
            self.sample += n as u64;
            return false;
        }
        if self.next_at.is_some_and(|t| now < t) {
            return false;
        }
        self.sample = n as u64;
        self.sent_at = Some(now);
        true
    }

    /// The sample's PING was answered at `now`: returns the new estimate if it grew.
    pub(crate) fn on_ack(&mut self, now: T) -> Option<u32> {
        let sent = self.sent_at.take()?;
        let rtt = now.since(sent).as_secs_f64().max(1e-6);
        let sample = std::mem::take(&mut self.sample);
        let grown = self.calculate(sample, rtt);
        if grown.is_some() {
            // The larger window shows in what arrives one round trip from now: the next
            // sample starts then (a sample taken sooner would see the old window).
            self.delay = Duration::ZERO;
            self.stable = 0;
            self.next_at = Some(now + Duration::from_secs_f64(self.min_rtt));
            return grown;
        }
        self.stable += 1;
        if self.stable >= 2 {
            // Stable: sample half as often, starting from one round trip.
            self.stable = 0;
            let rtt = Duration::from_secs_f64(self.min_rtt);
            self.delay = (self.delay * 2).max(rtt).min(MAX_SAMPLE_DELAY);
        }
        self.next_at = Some(now + self.delay);
        None
    }

    /// `sample` bytes arrived during a round trip of `rtt` seconds.
    fn calculate(&mut self, sample: u64, rtt: f64) -> Option<u32> {
        if self.min_rtt == 0.0 || rtt < self.min_rtt {
            self.min_rtt = rtt;
        }
        if self.estimate >= self.cap {
            return None;
        }
        let bandwidth = sample as f64 / rtt;
        if bandwidth < self.max_bandwidth {
            return None;
        }
        self.max_bandwidth = bandwidth;
        // The product over the path's own round trip: a round trip stretched by queues (ours
        // or the link's) carries more bytes without needing a larger window.
        let product = if rtt <= self.min_rtt {
            sample
        } else {
            (sample as f64 * self.min_rtt / rtt) as u64
        };
        if product * 3 < self.estimate as u64 * 2 {
            return None;
        }
        let next = (product * 2).min(self.cap as u64) as u32;
        if next <= self.estimate {
            return None;
        }
        self.estimate = next;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_update_beyond_2_31_minus_1_overflows() {
        let mut w = Window::new(MAX_WINDOW_SIZE);
        assert_eq!(w.increase(1), Err(WindowOverflow));
        let mut w = Window::new(1);
        assert!(w.increase(MAX_WINDOW_SIZE - 1).is_ok());
        assert_eq!(w.get(), MAX_WINDOW_SIZE as i32);
    }

    #[test]
    fn initial_window_size_change_may_make_window_negative() {
        let mut w = Window::new(DEFAULT_WINDOW);
        assert!(w.consume(60_000));
        w.adjust(-(DEFAULT_WINDOW as i64)).unwrap();
        assert_eq!(w.get(), 5_535 - 65_535);
        assert_eq!(w.available(), 0);
        w.increase(70_000).unwrap();
        assert_eq!(w.available(), 10_000);
    }

    #[test]
    fn consuming_more_than_window_is_refused() {
        let mut w = Window::new(10);
        assert!(!w.consume(11));
        assert_eq!(w.get(), 10);
        assert!(w.consume(10));
        assert_eq!(w.available(), 0);
    }

    #[test]
    fn released_bytes_always_return_to_the_peer() {
        let policy = WindowPolicy::default();
        let mut rw = RecvWindow::new(100);
        assert!(rw.window.consume(100));
        let mut returned = 0;
        for _ in 0..100 {
            returned += rw.release(1, &policy).unwrap_or(0);
        }
        assert_eq!(
            returned, 100,
            "all released bytes go back; no window stuck at 0"
        );
        assert_eq!(rw.window.get(), 100);
    }

    #[test]
    fn a_shrunk_window_returns_less_then_grows_back() {
        let policy = WindowPolicy::default();
        let mut rw = RecvWindow::new(100);
        rw.grow_to(400);
        assert_eq!(rw.release(0, &policy), Some(300));
        assert!(rw.window.consume(400));
        assert_eq!(rw.unread(), 400);
        // The reader fell behind: back to 100, so releasing all 400 returns only 100.
        rw.shrink_to(100);
        assert_eq!(rw.release(400, &policy), Some(100));
        assert_eq!((rw.window.get(), rw.unread(), rw.debt), (100, 0, 0));
        rw.grow_to(400);
        assert_eq!(rw.release(0, &policy), Some(300));
        assert_eq!(rw.window.get(), 400);
    }

    #[test]
    fn the_bdp_estimate_doubles_while_the_window_limits_and_rests_when_stable() {
        // Times are offsets from an origin (`Moment for Duration`): no clock.
        let t0 = Duration::ZERO;
        let rtt = Duration::from_millis(100);
        let mut bdp = Bdp::<Duration>::new(1000, 10_000);
        // One sample at a time: the first DATA starts it, later DATA adds to it.
        assert!(bdp.on_data(500, t0));
        assert!(!bdp.on_data(500, t0 + rtt / 2));
        // The whole window arrived in one round trip: twice the sample.
        assert_eq!(bdp.on_ack(t0 + rtt), Some(2000));
        // The next sample waits one round trip, for the grown window to show.
        assert!(!bdp.on_data(100, t0 + rtt + rtt / 2));
        let t1 = t0 + 2 * rtt;
        assert!(bdp.on_data(2000, t1));
        assert_eq!(bdp.on_ack(t1 + rtt), Some(4000));
        // The same bandwidth with a longer round trip (a queue) is no growth.
        let t2 = t1 + 3 * rtt;
        assert!(bdp.on_data(3000, t2));
        assert_eq!(bdp.on_ack(t2 + 3 * rtt / 2), None);
        assert!(bdp.on_data(100, t2 + 2 * rtt));
        assert_eq!(bdp.on_ack(t2 + 3 * rtt), None);
        // Two stable samples: the next waits a round trip.
        assert!(!bdp.on_data(100, t2 + 3 * rtt + rtt / 2));
        // Never beyond the cap.
        assert!(bdp.on_data(20_000, t2 + 4 * rtt));
        assert_eq!(bdp.on_ack(t2 + 5 * rtt), Some(10_000));
    }
}
