//! Counting what still runs (connection tasks, event loops) so that a close can wait until
//! none does: a server's `serve` returns only once each connection has finished its graceful
//! shutdown (RFC 9113 §6.8), and a client connection's `close` once its task ended. The count
//! is a [`Signal`]'s, the same that counts a client's connections.

use crate::pool::{Running, Signal};
use std::sync::Arc;
use std::task::{Context, Poll};

/// What still runs; clones count the same. Each holds a [`Running`] from [`Tasks::start`]
/// until it ends (or panics: the guard drops while unwinding).
#[derive(Clone, Default)]
pub struct Tasks(Arc<Signal>);

impl Tasks {
    /// Counts one more, until the returned guard drops.
    pub fn start(&self) -> Running {
        self.0.running()
    }

    /// How many still run.
    pub fn running(&self) -> usize {
        self.0.running_count()
    }

    /// Ready once none runs.
    pub fn poll_all_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        // A generation that moved is looked at again: each move is an end (or a start).
        loop {
            let seen = self.0.generation();
            if self.0.running_count() == 0 {
                return Poll::Ready(());
            }
            std::task::ready!(self.0.poll_changed(seen, cx));
        }
    }
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tasks").field(&self.running()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn all_done(tasks: &Tasks) {
        crate::block::block_on(std::future::poll_fn(|cx| tasks.poll_all_done(cx)));
    }

    #[test]
    fn all_done_once_every_task_ended_whoever_waits() {
        let tasks = Tasks::default();
        all_done(&tasks);
        let (a, b) = (tasks.start(), tasks.clone().start());
        assert_eq!(tasks.running(), 2);
        let ending = std::thread::spawn(move || {
            drop(a);
            std::thread::sleep(Duration::from_millis(10));
            drop(b);
        });
        all_done(&tasks);
        assert_eq!(tasks.running(), 0);
        ending.join().unwrap();
    }

    #[test]
    fn a_task_that_panics_still_counts_as_ended() {
        let tasks = Tasks::default();
        let running = tasks.start();
        let _ = std::thread::spawn(move || {
            let _running = running;
            panic!("task failed");
        })
        .join();
        all_done(&tasks);
    }
}
