//! The server's request handler, and one call of it polled inside the connection task.

use crate::Body;
use h2core::StreamId;
use http::{Request, Response};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// A boxed request handler, shared by every connection of a server.
pub(crate) type Handler = Arc<
    dyn Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;

/// Turns a handler function into the boxed form the connection tasks share.
pub(crate) fn boxed<F, Fut>(handler: F) -> Handler
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(handler(req)))
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

/// A handler's answer to the request on `stream`, polled inside the connection task, in the
/// stream's tracing span.
pub(crate) struct Responding {
    pub stream: StreamId,
    answer: Pin<Box<dyn Future<Output = Response<Body>> + Send>>,
    span: tracing::Span,
    /// Given once the handler had to wait (most answer at once and never need it); fires, or
    /// is dropped, when the stream is reset.
    cancel: Option<oneshot::Receiver<()>>,
}

impl Responding {
    #[inline]
    pub fn new(stream: StreamId, handler: &Handler, req: Request<Body>) -> Responding {
        let span = tracing::debug_span!("stream", id = stream.value());
        // Calling it only makes the future; its work happens when polled, inside the span.
        let answer = handler(req);
        Responding {
            stream,
            answer,
            span,
            cancel: None,
        }
    }

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
                this.answer = Box::pin(std::future::pending());
                return Poll::Ready((this.stream, Answer::Cancelled));
            }
        }
        let _entered = this.span.enter();
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.answer.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(resp)) => Poll::Ready((this.stream, Answer::Response(resp))),
            Err(_) => Poll::Ready((this.stream, Answer::Panicked)),
        }
    }
}
