//! Virtual time. The core takes `std::time::Instant`s, and an `Instant` cannot be made from
//! nothing, so virtual time is one origin `Instant` plus an offset that only the simulator
//! moves. Nothing depends on the origin's value: every figure is an offset from it, so a run
//! gives the same transcript whenever it runs.

use std::time::{Duration, Instant};

/// The simulation's clock: an origin and the virtual time elapsed since it.
#[derive(Debug, Clone)]
pub struct Clock {
    origin: Instant,
    elapsed: Duration,
}

impl Clock {
    /// A clock at virtual time zero.
    pub fn new() -> Clock {
        // The one read of the wall clock: an anchor for `Instant` arithmetic, never a measure.
        #[allow(clippy::disallowed_methods)]
        let origin = Instant::now();
        Clock {
            origin,
            elapsed: Duration::ZERO,
        }
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The current virtual time as the `Instant` the core takes.
    pub fn now(&self) -> Instant {
        self.instant(self.elapsed)
    }

    /// The `Instant` of virtual time `t`.
    pub fn instant(&self, t: Duration) -> Instant {
        self.origin + t
    }

    /// The virtual time of an `Instant` the core handed out (its deadlines); an instant before
    /// the origin counts as zero.
    pub fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    /// Moves time forward to `t` (never back: a deadline already past leaves it where it is).
    pub(crate) fn advance_to(&mut self, t: Duration) {
        self.elapsed = self.elapsed.max(t);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
