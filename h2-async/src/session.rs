//! One HTTP/2 connection's streams inside its task: the streams themselves are
//! `h2_http::session` (the same on every runtime); here are what only a task has: the
//! commands its handles send, the handlers it polls, and the client pool's view of it. The
//! socket, the write queue and the timer are the driver's (`driver.rs`).

use crate::handle::StreamHandle;
use crate::handler::{Answer, Handler, Responding};
use crate::shared::Shared;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2_http::body::Async;
use h2_http::drive::{Drive, Input};

/// What the connection's handles and bodies ask of its task (`h2_http::drive::Command`).
pub(crate) type Command = h2_http::drive::Command<Async>;
use h2_http::handle::Route;
use h2_http::pool::Seat;
use h2_http::session::PushSink;
use h2core::shell::Transport;
#[cfg(feature = "test-hooks")]
use h2core::Event;
use h2core::{Connection, Reason, StreamId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

pub(crate) enum RoleState {
    Server {
        handler: Handler,
    },
    Client {
        /// Where pushed responses go (none: every promise is cancelled).
        pushes: Option<PushSink<Async>>,
        /// Where the connection adds the header bytes it sends: its pool's count, or its own.
        header_bytes: Arc<AtomicU64>,
        /// Its client's waiters, woken with the handles' when its slots change.
        pool_wake: Option<Arc<dyn Fn() + Send + Sync>>,
    },
    /// Every core event goes to this channel as it is (the scenario corpus through the adapter).
    #[cfg(feature = "test-hooks")]
    Tap {
        events: mpsc::UnboundedSender<Event>,
    },
}

/// The streams of one connection, the core that carries them, and the task's own parts.
pub(crate) struct Session {
    /// The connection as every adapter drives it (`h2_http::drive`).
    pub drive: Drive<Async>,
    /// Server: answers each request.
    handler: Option<Handler>,
    client: bool,
    pub shared: Arc<Shared>,
    user_rx: mpsc::UnboundedReceiver<Command>,
    user_open: bool,
    /// How the handles this task gives out (`StreamHandle`, `RequestHandle`) reach it.
    route: Route<Async>,
    /// What handles and the readers of received bodies ask.
    internal_rx: mpsc::UnboundedReceiver<Command>,
    /// The handlers answering requests on this connection, polled inside this task: a
    /// response needs no task spawn nor channel hop, and the responses to a batch of requests
    /// go out in the write that follows it.
    handlers: FuturesUnordered<Responding>,
    /// Handlers for requests of this round, not polled yet (see `poll_handlers`).
    fresh_handlers: Vec<Responding>,
    /// Dropping one cancels the waiting handler of its stream.
    cancels: HashMap<StreamId, oneshot::Sender<()>>,
}

impl Session {
    /// `unparsed`: the driver's read buffer already holds bytes for the core.
    pub fn new(
        conn: Connection,
        unparsed: bool,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Session {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let consumed_tx = internal_tx.clone();
        let route: Route<Async> =
            Arc::new(move |cmd| internal_tx.send(Command::Stream(cmd)).is_ok());
        let release = Arc::new(move |stream, consumed| {
            let _ = consumed_tx.send(Command::Consumed { stream, consumed });
        });
        let mut drive = Drive::new(h2_http::session::Session::new(conn, release), unparsed);
        let (mut handler, mut client) = (None, false);
        match role {
            RoleState::Server { handler: h } => handler = Some(h),
            RoleState::Client {
                pushes,
                header_bytes,
                pool_wake,
            } => {
                client = true;
                drive.session.request_handles(route.clone());
                if let Some(sink) = pushes {
                    drive.session.pushes(sink);
                }
                let changed = shared.clone();
                let wake = Arc::new(move || {
                    changed.changed.notify_waiters();
                    if let Some(pool) = &pool_wake {
                        pool();
                    }
                });
                drive.seat(Seat::new(shared.slots.clone(), header_bytes, wake));
            }
            #[cfg(feature = "test-hooks")]
            RoleState::Tap { events } => drive.tap(Box::new(move |e| {
                let _ = events.send(e);
            })),
        }
        Session {
            drive,
            handler,
            client,
            shared,
            user_rx,
            user_open: true,
            route,
            internal_rx,
            handlers: FuturesUnordered::new(),
            fresh_handlers: Vec::new(),
            cancels: HashMap::new(),
        }
    }

    pub fn conn(&mut self) -> &mut Connection {
        self.drive.conn()
    }

    /// Takes what handles and bodies asked for; true if anything was.
    pub fn poll_commands(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        while self.user_open {
            match self.user_rx.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => self.drive.command(cmd, now),
                Poll::Ready(None) => {
                    // Every user handle is gone: close gracefully once streams finish.
                    self.user_open = false;
                    if self.client {
                        let _ = self.conn().shutdown(now);
                    }
                }
                Poll::Pending => break,
            }
            progress = true;
        }
        while let Poll::Ready(Some(cmd)) = self.internal_rx.poll_recv(cx) {
            self.drive.command(cmd, now);
            progress = true;
        }
        progress
    }

    /// Polls the handlers; true if one answered (or panicked: its stream is reset with
    /// INTERNAL_ERROR, and the connection goes on).
    pub fn poll_handlers(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut answered = false;
        // A new handler is polled once here first: most answer at once, and then never need
        // a place (an allocation) in the set, nor a way to be cancelled. One that waits joins
        // it, whose next poll registers the set's own waker for it.
        let mut fresh = std::mem::take(&mut self.fresh_handlers);
        for mut h in fresh.drain(..) {
            match Pin::new(&mut h).poll(cx) {
                Poll::Ready((stream, answer)) => {
                    answered = true;
                    self.answered(stream, answer, now);
                }
                Poll::Pending => {
                    self.cancels.insert(h.stream, h.cancellable());
                    self.handlers.push(h);
                }
            }
        }
        self.fresh_handlers = fresh;
        while let Poll::Ready(Some((stream, answer))) = self.handlers.poll_next_unpin(cx) {
            answered = true;
            self.answered(stream, answer, now);
        }
        answered
    }

    fn answered(&mut self, stream: StreamId, answer: Answer, now: Instant) {
        // Only handlers that had to wait have an entry (most answer at once).
        if !self.cancels.is_empty() {
            self.cancels.remove(&stream);
        }
        match answer {
            Answer::Response(resp) => {
                // What the handler asked for before answering (a 103 Early Hints, a push)
                // goes first: a 1xx after the final response is refused (RFC 9113 §8.1).
                while !self.internal_rx.is_empty() {
                    let Ok(cmd) = self.internal_rx.try_recv() else {
                        break;
                    };
                    self.drive.command(cmd, now);
                }
                let response = Command::Respond {
                    stream,
                    response: resp,
                };
                self.drive.command(response, now);
            }
            Answer::Panicked => {
                let _ = self.conn().reset(stream, Reason::INTERNAL_ERROR);
            }
            Answer::Cancelled => {}
        }
    }

    /// Takes what the core has for the task: requests start their handlers, a stream or the
    /// connection that is gone drops the handlers still waiting on it. True if anything did.
    pub fn poll_inputs(&mut self, transport: &mut Transport, now: Instant) -> bool {
        let (handler, route) = (&self.handler, &self.route);
        let (fresh, cancels) = (&mut self.fresh_handlers, &mut self.cancels);
        self.drive.poll(transport, now, |input| {
            match input {
                Input::Request(stream, mut request) => {
                    let handler = handler.as_ref()?;
                    let handle = StreamHandle::new(stream, route.clone());
                    request.extensions_mut().insert(handle);
                    fresh.push(Responding::new(stream, handler, request));
                }
                Input::Reset(stream) => {
                    cancels.remove(&stream);
                    fresh.retain(|h| h.stream != stream);
                }
                Input::Closed => {
                    cancels.clear();
                    fresh.clear();
                }
            }
            None
        })
    }

    /// The task ends: handles waiting for this connection learn it is gone; its counters are
    /// final.
    pub fn finish(&mut self) {
        self.drive.finish();
        self.shared.slots.finish();
        self.shared.finished.store(true, Ordering::Release);
        self.shared.changed.notify_waiters();
    }
}
