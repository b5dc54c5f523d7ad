//! Flow control (RFC 9113 §5.2, §6.9).
//!
//! [`Window`] is the signed window of §6.9.2 (SETTINGS_INITIAL_WINDOW_SIZE changes can make it
//! negative) with checked arithmetic: any window above 2^31-1 is a FLOW_CONTROL_ERROR. The policy
//! of *when* to return received bytes to the peer with WINDOW_UPDATE lives in one small object,
//! [`WindowPolicy`], so it is not spread over the connection.

use crate::frame::MAX_WINDOW_SIZE;

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
/// window cannot stay stuck at zero.
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
}

impl RecvWindow {
    /// A receive window of `size` bytes.
    pub(crate) fn new(size: u32) -> RecvWindow {
        RecvWindow {
            window: Window::new(size),
            released: 0,
            target: size,
        }
    }

    /// The application consumed `n` received bytes; returns the WINDOW_UPDATE increment to send
    /// now, if the policy says so.
    pub(crate) fn release(&mut self, n: u32, policy: &WindowPolicy) -> Option<u32> {
        self.released = self.released.saturating_add(n);
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
}
