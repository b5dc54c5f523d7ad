//! What a connection task publishes to the handles that send on it, read without asking it.

use h2_http::tasks::Tasks;
use h2core::shell::pool::Slots;
use std::sync::Arc;

/// State the user's handles read without asking the task.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The client pool's view of this connection (RFC 9113 §5.1.2, §6.5.2, §6.8).
    pub slots: Arc<Slots>,
    /// Counts the task until it ends: the counters above are then final.
    pub task: Tasks,
}
