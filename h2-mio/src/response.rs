//! Responses on their way to a client's caller: the loop sends the head (with a streaming
//! body) or the failure through a channel; the caller blocks on it. A caller that gives up
//! before the head arrives has the stream reset with CANCEL (RFC 9113 §8.1), and a request the
//! server refused may come back with its untouched body, to be sent again (§8.7).

use crate::body::Body;
use h2_http::Error;
use http::{Request, Response};
use std::sync::mpsc;

/// What the loop answers about a request (or a pushed stream).
pub(crate) enum Reply {
    /// The response head arrived; the body follows as it arrives.
    Head(Response<Body>),
    /// No response; `Some(body)` gives back a request body nothing of which was taken.
    Failed(Error, Option<Body>),
}

pub(crate) type ReplyTx = mpsc::Sender<Reply>;

/// Run when the caller gives up before the head: the loop resets the stream.
pub(crate) type Forget = Box<dyn FnOnce() + Send>;

/// The caller's end of a [`Reply`] channel.
pub(crate) struct Waiting {
    rx: mpsc::Receiver<Reply>,
    forget: Option<Forget>,
}

impl Waiting {
    pub(crate) fn new(rx: mpsc::Receiver<Reply>, forget: Forget) -> Waiting {
        Waiting {
            rx,
            forget: Some(forget),
        }
    }

    /// Blocks for the reply; the loop gone without one is `ConnectionGone`.
    pub(crate) fn recv(&mut self) -> Reply {
        let reply = self
            .rx
            .recv()
            .unwrap_or(Reply::Failed(Error::ConnectionGone, None));
        // Answered either way: nothing left to cancel (the body resets on its own drop).
        self.forget = None;
        reply
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(forget) = self.forget.take() {
            forget();
        }
    }
}

/// A response the server promised to push (RFC 9113 §8.4), from [`Client::pushes`](crate::Client::pushes).
pub struct PushPromise {
    /// The promised request (what the server says the client would have asked).
    pub request: Request<()>,
    /// The pushed response, when it arrives.
    pub response: PushedResponse,
}

/// A pushed response on its way. Dropping it before the head resets the promised stream with
/// CANCEL (RFC 9113 §8.4).
pub struct PushedResponse(pub(crate) Waiting);

impl PushedResponse {
    /// Blocks until the pushed response's head arrives; its body streams.
    pub fn wait(mut self) -> Result<Response<Body>, Error> {
        match self.0.recv() {
            Reply::Head(r) => Ok(r),
            Reply::Failed(e, _) => Err(e),
        }
    }
}

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

impl std::fmt::Debug for PushPromise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushPromise")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}
