//! Responses a server pushes, as the blocking client receives them.

use std::sync::mpsc;

/// A response the server promised to push (RFC 9113 §8.4), from [`Client::pushes`](crate::Client::pushes).
pub type PushPromise = h2_http::reply::PushPromise<h2_http::body::Blocking>;

/// A pushed response on its way; [`PushedResponse::wait`] blocks for its head. Dropping it
/// before the head resets the promised stream with CANCEL (RFC 9113 §8.4).
pub type PushedResponse = h2_http::reply::PushedResponse<h2_http::body::Blocking>;

/// The responses a server pushes (RFC 9113 §8.4), from [`Client::pushes`](crate::Client::pushes).
pub struct Pushes(pub(crate) mpsc::Receiver<PushPromise>);

impl Pushes {
    /// Blocks for the next promised response; `None` once no connection can deliver any more.
    pub fn recv(&mut self) -> Option<PushPromise> {
        self.0.recv().ok()
    }

    /// As [`Pushes::recv`], waiting at most `timeout`.
    pub fn recv_timeout(&mut self, timeout: std::time::Duration) -> Option<PushPromise> {
        self.0.recv_timeout(timeout).ok()
    }
}

impl Iterator for Pushes {
    type Item = PushPromise;

    fn next(&mut self) -> Option<PushPromise> {
        self.recv()
    }
}

impl std::fmt::Debug for Pushes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pushes").finish_non_exhaustive()
    }
}
