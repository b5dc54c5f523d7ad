//! The transport under a connection: the write queue, and how a connection ends (RFC 9113
//! §6.8's "graceful" close seen from the socket).
//!
//! Bytes to write are queued as the `Bytes` chunks they came in (a DATA payload is the
//! application's own buffer) and handed to the adapter as `IoSlice`s for one vectored write.
//! Once the protocol on top is over the transport closes in three steps, each bounded in time:
//! 1. **flush**: what is queued still goes out, for at most [`CLOSE_FLUSH_GRACE`] (a peer that
//!    does not read gets no more);
//! 2. **linger**: our FIN is sent ([`CloseAction::ShutdownWrite`]) and what the peer still sends
//!    is read and dropped until it closes too, for at most [`LINGER`]. Closing a socket with
//!    unread input makes the kernel answer with a reset, which can discard our last bytes (the
//!    GOAWAY saying why) before the peer reads them; Go's server and nginx's
//!    `lingering_close` wait for the same reason;
//! 3. **done**: the adapter drops the socket.

use crate::conn::Connection;
use crate::event::Event;
use crate::frame::Reason;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::time::{Duration, Instant};

/// How long the last bytes of a closed connection may take to be written.
pub const CLOSE_FLUSH_GRACE: Duration = Duration::from_secs(5);

/// After our last bytes and our FIN, how long we keep reading (and dropping) what the peer
/// still sends while waiting for it to close too.
pub const LINGER: Duration = Duration::from_secs(2);

/// The most an adapter reads from a socket at once. Every read is fed to the core whole, and
/// the replies one read causes (PING and SETTINGS ACKs) are all queued before any is written:
/// 16 KiB holds at most 963 PINGs, under `Limits::max_pending_control_frames` (1,024), so a
/// peer that pipelines many PINGs and reads our answers is never taken for a flood
/// (CVE-2019-9512), however much it sent at once. Larger reads made that depend on timing.
pub const READ_CHUNK: usize = 16 * 1024;

/// The most slices an adapter hands one vectored write ([`Transport::io_slices`]): a batch of
/// the core's frames goes out in one `writev`, as one TCP segment when it fits. A small
/// response is two or three chunks, so 64 slices split a batch of 32 responses into two
/// writes and two segments; 256 (4 KiB of slices on the stack) hold a batch of ~100, and stay
/// under every system's `IOV_MAX` (1,024 on Linux).
pub const WRITE_SLICES: usize = 256;

/// Where a transport is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportState {
    /// The protocol runs.
    Open,
    /// The protocol is over; queued bytes go out until the deadline.
    Flushing {
        /// When the remaining bytes are given up.
        deadline: Instant,
    },
    /// Everything is written and our FIN is out: read and drop until the peer closes or the
    /// deadline passes.
    Lingering {
        /// When we stop waiting for the peer's FIN.
        deadline: Instant,
    },
    /// Drop the socket.
    Done,
}

/// What the adapter must do to its socket now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum CloseAction {
    /// Shut down the sending side (FIN; for TLS, after close_notify went out), then read and
    /// drop input while [`Transport::is_lingering`].
    ShutdownWrite,
}

/// The write side of one connection's socket, and its close sequence. Sans-IO: the adapter
/// writes [`Transport::io_slices`] and reports how much went with [`Transport::advance`].
#[derive(Debug)]
pub struct Transport {
    queue: VecDeque<Bytes>,
    queued: usize,
    state: TransportState,
    /// The core ended (`ConnectionTerminated`), even if its last frames are not handed out
    /// yet: it sets no more deadlines, so the close grace is ours to keep.
    terminated: bool,
    scratch: Vec<Bytes>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

impl Transport {
    /// An open transport with nothing queued.
    pub fn new() -> Transport {
        Transport {
            queue: VecDeque::new(),
            queued: 0,
            state: TransportState::Open,
            terminated: false,
            scratch: Vec::new(),
        }
    }

    /// Queues `bytes` to write after what is queued. Empty chunks are skipped.
    pub fn push(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.queued += bytes.len();
            self.queue.push_back(bytes);
        }
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Fills `out` with the queued chunks, oldest first, for one vectored write; returns how
    /// many slices were filled.
    pub fn io_slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in out.iter_mut().zip(self.queue.iter()) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// `n` bytes from the front of the queue were written.
    ///
    /// # Panics
    /// If `n` is more than is queued: the adapter wrote bytes it was never given.
    pub fn advance(&mut self, mut n: usize) {
        assert!(n <= self.queued, "advanced past the write queue");
        self.queued -= n;
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                return;
            };
            if n >= front.len() {
                n -= front.len();
                self.queue.pop_front();
            } else {
                let _ = front.split_to(n);
                n = 0;
            }
        }
    }

    /// HTTP/2: takes the core's next batch when the previous one is written (so the core's
    /// write-queue limits see what the socket has not taken), and starts closing once the
    /// core is over. While flushing, the core's last frames (the GOAWAY saying why) are still
    /// taken: a core that ended while a batch was being written hands them out afterwards.
    /// True if bytes were queued.
    pub fn pump(&mut self, conn: &mut Connection, now: Instant) -> bool {
        let mut queued = false;
        let taking = matches!(
            self.state,
            TransportState::Open | TransportState::Flushing { .. }
        );
        if self.queue.is_empty() && taking {
            self.scratch.clear();
            if conn.poll_transmit(now, &mut self.scratch) > 0 {
                for b in self.scratch.drain(..) {
                    if !b.is_empty() {
                        self.queued += b.len();
                        self.queue.push_back(b);
                    }
                }
                queued = true;
            }
        }
        if conn.is_closed() || self.terminated {
            self.close(now);
        }
        queued
    }

    /// HTTP/2: looks at each event of the core before the adapter handles it. A connection we
    /// ended in error after the peer stopped reading (`Config::write_timeout`) has dropped its
    /// output; what we still hold cannot reach the peer either, so it is dropped too.
    pub fn observe(&mut self, conn: &Connection, event: &Event) {
        if let Event::ConnectionTerminated { reason, remote, .. } = event {
            self.terminated = true;
            if !*remote && *reason != Reason::NO_ERROR && conn.is_closed() {
                self.drop_queue();
            }
        }
    }

    /// The protocol is over: flush what is queued (within [`CLOSE_FLUSH_GRACE`]), then close.
    /// Idempotent.
    pub fn close(&mut self, now: Instant) {
        if self.state == TransportState::Open {
            self.state = TransportState::Flushing {
                deadline: now + CLOSE_FLUSH_GRACE,
            };
        }
    }

    /// While closing: once everything is written (`lower_pending`: the adapter's own layer
    /// below the queue, such as TLS records, is empty too), say so to send our FIN and start
    /// lingering.
    pub fn poll_close(&mut self, now: Instant, lower_pending: bool) -> Option<CloseAction> {
        match self.state {
            TransportState::Flushing { .. } if self.queue.is_empty() && !lower_pending => {
                self.state = TransportState::Lingering {
                    deadline: now + LINGER,
                };
                Some(CloseAction::ShutdownWrite)
            }
            _ => None,
        }
    }

    /// True once the protocol is over (flushing, lingering or done).
    pub fn is_closing(&self) -> bool {
        self.state != TransportState::Open
    }

    /// True while input is read only to be dropped (our FIN is out).
    pub fn is_lingering(&self) -> bool {
        matches!(self.state, TransportState::Lingering { .. })
    }

    /// True when the adapter should drop the socket.
    pub fn is_done(&self) -> bool {
        self.state == TransportState::Done
    }

    /// Where the transport is.
    pub fn state(&self) -> TransportState {
        self.state
    }

    /// The peer closed its side (or the socket failed). While lingering that is the end; before,
    /// the adapter tells the protocol (`Connection::handle_eof`).
    pub fn handle_eof(&mut self) {
        if self.is_lingering() {
            self.state = TransportState::Done;
        }
    }

    /// Writing failed: nothing more can be delivered.
    pub fn handle_write_error(&mut self) {
        self.drop_queue();
        self.state = TransportState::Done;
    }

    /// The deadline of the close sequence, if one runs. (While open, the protocol's own
    /// deadlines apply.)
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            TransportState::Flushing { deadline } | TransportState::Lingering { deadline } => {
                Some(deadline)
            }
            _ => None,
        }
    }

    /// Time passed: a flush that did not finish in its grace drops its bytes (the peer does
    /// not read, so lingering for it is pointless); a linger that saw no FIN ends.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            TransportState::Flushing { deadline } | TransportState::Lingering { deadline }
                if now >= deadline =>
            {
                self.drop_queue();
                self.state = TransportState::Done;
            }
            _ => {}
        }
    }

    fn drop_queue(&mut self) {
        self.queue.clear();
        self.queued = 0;
    }
}
