//! Responses on their way to a client's caller, on every runtime: the connection answers
//! once, with the head (the body streams behind it) or the failure; the caller awaits it
//! ([`Async`]) or blocks on it ([`Blocking`]). A caller that gives up before the head has
//! the stream reset with CANCEL (RFC 9113 §8.1), and a request the server refused may come
//! back with its untouched body, to be sent again (§8.7).

use crate::body::{Async, Blocking, Body, Mode};
use crate::oneshot::{self, OnCancel};
use crate::Error;
use http::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the connection answers about a request (or a pushed stream).
pub enum Reply<M: Mode> {
    /// The response head arrived; the body follows as it arrives.
    Head(Response<Body<M>>),
    /// No response; `Some(body)` gives back a request body nothing of which was taken.
    Failed(Error, Option<Body<M>>),
}

/// A new answer channel: the connection keeps the [`ReplyTx`], the caller waits on the
/// [`Pending`]; `on_cancel` runs if the caller drops it unanswered (it tells the connection,
/// which resets the streams nobody waits for: `Session::abandoned`).
pub fn channel<M: Mode>(on_cancel: Option<OnCancel>) -> (ReplyTx<M>, Pending<M>) {
    let (tx, rx) = oneshot::channel(on_cancel);
    (tx, Pending(rx))
}

/// The connection's end: answers once ([`oneshot::Sender::send`]). Dropped unanswered, the
/// caller sees [`Error::ConnectionGone`].
pub type ReplyTx<M> = oneshot::Sender<Reply<M>>;

/// The caller's end of an answer. Dropping it before the answer came resets the stream with
/// CANCEL (RFC 9113 §8.1).
pub struct Pending<M: Mode>(oneshot::Receiver<Reply<M>>);

fn gone<M: Mode>(reply: Option<Reply<M>>) -> Reply<M> {
    reply.unwrap_or(Reply::Failed(Error::ConnectionGone, None))
}

impl Pending<Blocking> {
    /// Blocks for the answer.
    pub fn wait(&mut self) -> Reply<Blocking> {
        gone(self.0.wait())
    }
}

/// Awaited by a task, or by a thread through `block::block_on` (the shared client's way).
impl<M: Mode> Future for Pending<M> {
    type Output = Reply<M>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply<M>> {
        Pin::new(&mut self.0).poll(cx).map(gone)
    }
}

/// A response the server promised to push (RFC 9113 §8.4), as a client receives it.
pub struct PushPromise<M: Mode> {
    /// The promised request (what the server says the client would have asked).
    pub request: Request<()>,
    /// The pushed response, when it arrives.
    pub response: PushedResponse<M>,
}

impl<M: Mode> std::fmt::Debug for PushPromise<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushPromise")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// A pushed response on its way. Dropping it before the head resets the promised stream with
/// CANCEL (RFC 9113 §8.4).
pub struct PushedResponse<M: Mode>(pub(crate) Pending<M>);

impl PushedResponse<Async> {
    /// Waits until the pushed response's head arrives; its body streams.
    pub async fn wait(self) -> Result<Response<Body<Async>>, Error> {
        match self.0.await {
            Reply::Head(r) => Ok(r),
            Reply::Failed(e, _) => Err(e),
        }
    }
}

impl PushedResponse<Blocking> {
    /// Blocks until the pushed response's head arrives; its body streams.
    pub fn wait(mut self) -> Result<Response<Body<Blocking>>, Error> {
        match self.0.wait() {
            Reply::Head(r) => Ok(r),
            Reply::Failed(e, _) => Err(e),
        }
    }
}
