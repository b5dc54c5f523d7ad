//! The server's request handler, and one call of it polled inside the connection task.
//!
//! Each connection calls the handler through its own [`Calls`], which keeps the place (one
//! allocation) of the last answer that came at once and builds the next request's future in
//! it: a handler that answers when first polled costs no allocation per request. One that
//! waits keeps its place until it answers or its stream is reset.

use crate::Body;
use h2core::StreamId;
use http::{Request, Response};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// A request handler, shared by every connection of a server.
pub(crate) type Handler = Arc<dyn Serve>;

/// A handler, as the connection tasks share it: each connection calls it through its own
/// [`Calls`].
pub(crate) trait Serve: Send + Sync {
    /// A connection's way of calling this handler.
    fn calls(self: Arc<Self>) -> Box<dyn Calls>;
}

/// One connection's calls of the handler.
pub(crate) trait Calls: Send {
    /// Calls the handler on the request of `stream` and polls its answer once, in the
    /// stream's tracing span.
    fn call(&mut self, stream: StreamId, req: Request<Body>, cx: &mut Context<'_>) -> Called;
}

/// What the first poll of a handler's call gave.
pub(crate) enum Called {
    /// The call ended at once.
    Answered(Answer),
    /// The handler waits: poll this until it answers.
    Waiting(Responding),
}

/// Wraps a handler function into the form the connection tasks share.
pub(crate) fn boxed<F, Fut>(handler: F) -> Handler
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(Function(handler))
}

/// A handler function.
struct Function<F>(F);

impl<F, Fut> Serve for Function<F>
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    fn calls(self: Arc<Self>) -> Box<dyn Calls> {
        Box::new(FunctionCalls {
            handler: self,
            spare: None,
        })
    }
}

/// A connection's calls of a handler function.
struct FunctionCalls<F, Fut> {
    handler: Arc<Function<F>>,
    /// The place of the last call that answered at once, empty, for the next call.
    spare: Option<Pin<Box<Option<Fut>>>>,
}

impl<F, Fut> Calls for FunctionCalls<F, Fut>
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    #[inline]
    fn call(&mut self, stream: StreamId, req: Request<Body>, cx: &mut Context<'_>) -> Called {
        let span = tracing::debug_span!("stream", id = stream.value());
        let mut place = self.spare.take().unwrap_or_else(|| Box::pin(None));
        let entered = span.enter();
        // The call too may panic, not only the polls of its future.
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            place.set(Some((self.handler.0)(req)));
            place.as_mut().poll_answer(cx)
        }));
        let answer = match polled {
            Ok(Poll::Pending) => {
                drop(entered);
                return Called::Waiting(Responding {
                    stream,
                    answer: place,
                    span,
                    cancel: None,
                });
            }
            Ok(Poll::Ready(resp)) => Answer::Response(resp),
            Err(_) => Answer::Panicked,
        };
        // Dropped inside its span, like every poll of it. A future that panicked may not be
        // dropped cleanly: its place is not kept.
        if let Answer::Response(_) = answer {
            place.set(None);
            self.spare = Some(place);
        }
        Called::Answered(answer)
    }
}

/// A handler's future in its place: `None` once it answered.
trait Place: Send {
    fn poll_answer(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<Body>>;
    /// Drops the future.
    fn clear(self: Pin<&mut Self>);
}

impl<Fut: Future<Output = Response<Body>> + Send> Place for Option<Fut> {
    #[inline]
    fn poll_answer(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<Body>> {
        match self.as_pin_mut() {
            Some(answer) => answer.poll(cx),
            None => Poll::Pending,
        }
    }

    fn clear(mut self: Pin<&mut Self>) {
        self.set(None);
    }
}

/// How a handler's call ended.
pub(crate) enum Answer {
    /// The response to send.
    Response(Response<Body>),
    /// The handler panicked: its stream is reset (INTERNAL_ERROR), the connection goes on.
    Panicked,
    /// The stream was reset first: the handler's future was dropped, as no one will read its
    /// answer (RFC 9113 §8.1: no work goes on for a dead stream).
    Cancelled,
}

/// A handler's answer to the request on `stream` that did not come at once, polled inside
/// the connection task, in the stream's tracing span.
pub(crate) struct Responding {
    pub stream: StreamId,
    answer: Pin<Box<dyn Place>>,
    span: tracing::Span,
    /// Fires, or is dropped, when the stream is reset (see [`Responding::cancellable`]).
    cancel: Option<oneshot::Receiver<()>>,
}

impl Responding {
    /// Makes this call cancellable: it ends (dropping the handler's future) once the returned
    /// sender is used or dropped.
    pub fn cancellable(&mut self) -> oneshot::Sender<()> {
        let (tx, rx) = oneshot::channel();
        self.cancel = Some(rx);
        tx
    }
}

impl Future for Responding {
    type Output = (StreamId, Answer);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(cancel) = this.cancel.as_mut() {
            if Pin::new(cancel).poll(cx).is_ready() {
                // Dropped inside its span, like every other poll of it.
                let _entered = this.span.enter();
                this.answer.as_mut().clear();
                return Poll::Ready((this.stream, Answer::Cancelled));
            }
        }
        let _entered = this.span.enter();
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.answer.as_mut().poll_answer(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(resp)) => Poll::Ready((this.stream, Answer::Response(resp))),
            Err(_) => Poll::Ready((this.stream, Answer::Panicked)),
        }
    }
}
