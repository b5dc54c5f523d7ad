//! What a connection task publishes to the handles that send on it, read without asking it.

use h2core::shell::pool::Slots;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use tokio::sync::Notify;

/// State the user's handles read without asking the task.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The client pool's view of this connection (RFC 9113 §5.1.2, §6.5.2, §6.8).
    pub slots: Slots,
    /// Woken when `slots` becomes ready or closing.
    pub changed: Notify,
    /// Where the task adds the HEADERS + CONTINUATION payload bytes it sends
    /// (`h2core::Stats::header_bytes_sent`): its pool's count, or its own.
    pub header_bytes: Arc<AtomicU64>,
    /// The task has ended: the counters above are final.
    pub finished: AtomicBool,
}

impl Shared {
    pub fn new(header_bytes: Arc<AtomicU64>) -> Shared {
        Shared {
            slots: Slots::new(),
            changed: Notify::new(),
            header_bytes,
            finished: AtomicBool::new(false),
        }
    }
}
