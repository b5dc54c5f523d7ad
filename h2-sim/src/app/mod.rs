//! The scripted applications on each side of the connection. Like a real application they
//! see only `Connection`'s commands and events; the endpoint calls them in the adapter's
//! order (commands, then events, then commands they caused).

mod client;
mod server;

pub(crate) use client::ClientApp;
pub(crate) use server::ServerApp;

use h2core::{Connection, Event};
use std::time::{Duration, Instant};

/// Virtual time in both forms: as an offset (for the application's script and reports) and as
/// the `Instant` the core takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) t: Duration,
    pub(crate) at: Instant,
}

/// An application driven by an endpoint.
pub(crate) trait App {
    /// Applies due commands (send requests, queue body bytes, release consumed bytes); true if
    /// it did anything.
    fn poll(&mut self, conn: &mut Connection, now: Now) -> bool;
    /// One event of the connection.
    fn event(&mut self, conn: &mut Connection, event: Event, now: Now);
    /// When `poll` has something to do next without any event (a request's start, a reader's
    /// next read).
    fn next_wake(&self) -> Option<Duration>;
    /// Bytes held on the application's behalf: received and not consumed, or queued to send.
    fn held(&self, conn: &Connection) -> usize;
    /// True when every stream it cares about has ended.
    fn done(&self) -> bool;
    /// Streams with body bytes queued that the core reports ready to send
    /// (`SendState::Ready`); asked right after the core handed out all it had.
    fn stalled(&self, _conn: &Connection) -> Vec<u32> {
        Vec::new()
    }
}
