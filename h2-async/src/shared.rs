//! What a connection task publishes to the handles that send on it, read without asking it.

use h2core::shell::pool::Slots;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::sync::Notify;

/// State the user's handles read without asking the task.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The client pool's view of this connection (RFC 9113 §5.1.2, §6.5.2, §6.8).
    pub slots: Arc<Slots>,
    /// Woken when `slots` becomes ready or closing.
    pub changed: Notify,
    /// The task has ended: the counters above are final.
    pub finished: AtomicBool,
}
