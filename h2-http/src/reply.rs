//! Responses on their way to a client's caller, on every runtime: the connection answers
//! once, with the head (the body streams behind it) or the failure; the caller awaits it
//! ([`Async`]) or blocks on it ([`Blocking`]). A caller that gives up before the head has
//! the stream reset with CANCEL (RFC 9113 §8.1), and a request the server refused may come
//! back with its untouched body, to be sent again (§8.7).

use crate::body::{Async, Blocking, Body, Mode};
use crate::Error;
use http::{Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// What the connection answers about a request (or a pushed stream).
pub enum Reply<M: Mode> {
    /// The response head arrived; the body follows as it arrives.
    Head(Response<Body<M>>),
    /// No response; `Some(body)` gives back a request body nothing of which was taken.
    Failed(Error, Option<Body<M>>),
}

/// Run when the caller gives up before the answer: it tells the connection, which resets
/// the streams nobody waits for (`Session::abandoned`).
pub type OnCancel = Box<dyn FnOnce() + Send>;

struct Slot<M: Mode> {
    state: Mutex<State<M>>,
    ready: Condvar,
}

struct State<M: Mode> {
    reply: Option<Reply<M>>,
    /// The connection dropped its end without answering.
    orphaned: bool,
    /// The caller is gone.
    closed: bool,
    waker: Option<Waker>,
}

impl<M: Mode> Slot<M> {
    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, f: impl FnOnce(&mut State<M>)) {
        let mut s = self.lock();
        f(&mut s);
        if let Some(w) = s.waker.take() {
            w.wake();
        }
        self.ready.notify_all();
    }
}

/// A new answer channel: the connection keeps the [`ReplyTx`], the caller waits on the
/// [`Pending`]; `on_cancel` runs if the caller drops it unanswered.
pub fn channel<M: Mode>(on_cancel: Option<OnCancel>) -> (ReplyTx<M>, Pending<M>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            reply: None,
            orphaned: false,
            closed: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (
        ReplyTx(Some(slot.clone())),
        Pending {
            slot,
            on_cancel,
            done: false,
        },
    )
}

/// The connection's end: answers once. Dropped unanswered, the caller sees
/// [`Error::ConnectionGone`].
pub struct ReplyTx<M: Mode>(Option<Arc<Slot<M>>>);

impl<M: Mode> ReplyTx<M> {
    /// Answers; a caller already gone drops the answer (and with it a response body, which
    /// cancels the stream).
    pub fn send(mut self, reply: Reply<M>) {
        if let Some(slot) = self.0.take() {
            slot.set(|s| {
                if !s.closed {
                    s.reply = Some(reply);
                }
            });
        }
    }

    /// True once the caller gave up.
    pub fn is_closed(&self) -> bool {
        self.0.as_ref().is_none_or(|s| s.lock().closed)
    }
}

impl<M: Mode> Drop for ReplyTx<M> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            slot.set(|s| s.orphaned = true);
        }
    }
}

/// The caller's end of an answer. Dropping it before the answer came resets the stream with
/// CANCEL (RFC 9113 §8.1).
pub struct Pending<M: Mode> {
    slot: Arc<Slot<M>>,
    on_cancel: Option<OnCancel>,
    done: bool,
}

impl<M: Mode> Pending<M> {
    fn take(&mut self, s: &mut State<M>) -> Option<Reply<M>> {
        let reply = s.reply.take().or_else(|| {
            s.orphaned
                .then_some(Reply::Failed(Error::ConnectionGone, None))
        })?;
        self.done = true;
        Some(reply)
    }
}

impl Pending<Blocking> {
    /// Blocks for the answer.
    pub fn wait(&mut self) -> Reply<Blocking> {
        let slot = self.slot.clone();
        let mut s = slot.lock();
        loop {
            if let Some(reply) = self.take(&mut s) {
                return reply;
            }
            s = slot.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Future for Pending<Async> {
    type Output = Reply<Async>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply<Async>> {
        let slot = self.slot.clone();
        let mut s = slot.lock();
        match self.take(&mut s) {
            Some(reply) => Poll::Ready(reply),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<M: Mode> Drop for Pending<M> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // An answer that came meanwhile is dropped here (its body cancels the stream).
        self.slot.lock().closed = true;
        if let Some(cancel) = self.on_cancel.take() {
            cancel();
        }
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
