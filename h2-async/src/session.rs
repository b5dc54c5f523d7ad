//! One HTTP/2 connection's streams inside its task: the streams themselves are
//! `h2_http::session` (the same on every runtime); here are what only a task has: the
//! commands its handles send, the handlers it polls, and the client pool's view of it. The
//! socket, the write queue and the timer are the driver's (`driver.rs`).

use crate::command::Command;
use crate::handle::{PushPromise, StreamHandle};
use crate::handler::{Answer, Handler, Responding};
use crate::shared::Shared;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2_http::body::{Async, Consumed};
use h2_http::handle::Route;
use h2_http::Error;
use h2core::{Connection, Event, Reason, StreamId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

pub(crate) enum RoleState {
    Server {
        handler: Handler,
    },
    Client {
        pushes: Option<mpsc::UnboundedSender<PushPromise>>,
    },
    /// Every core event goes to this channel as it is (the scenario corpus through the adapter).
    #[cfg(feature = "test-hooks")]
    Tap {
        events: mpsc::UnboundedSender<Event>,
    },
}

/// The streams of one connection, the core that carries them, and the task's own parts.
pub(crate) struct Session {
    pub streams: h2_http::session::Session<Async>,
    role: RoleState,
    pub shared: Arc<Shared>,
    user_rx: mpsc::UnboundedReceiver<Command>,
    user_open: bool,
    /// How the handles this task gives out (`StreamHandle`) reach it.
    route: Route<Async>,
    internal_rx: mpsc::UnboundedReceiver<Command>,
    /// What readers of received bodies consumed.
    consumed_rx: mpsc::UnboundedReceiver<(StreamId, Consumed)>,
    pub error: Option<Error>,
    /// The handlers answering requests on this connection, polled inside this task: a
    /// response needs no task spawn nor channel hop, and the responses to a batch of requests
    /// go out in the write that follows it.
    handlers: FuturesUnordered<Responding>,
    /// Handlers for requests of this round, not polled yet (see `poll_handlers`).
    fresh_handlers: Vec<Responding>,
    /// Dropping one cancels the waiting handler of its stream.
    cancels: HashMap<StreamId, oneshot::Sender<()>>,
    /// The header bytes already added to `shared.header_bytes`.
    header_bytes_counted: u64,
}

impl Session {
    pub fn new(
        conn: Connection,
        user_rx: mpsc::UnboundedReceiver<Command>,
        role: RoleState,
        shared: Arc<Shared>,
    ) -> Session {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let route: Route<Async> =
            Arc::new(move |cmd| internal_tx.send(Command::Stream(cmd)).is_ok());
        let (consumed_tx, consumed_rx) = mpsc::unbounded_channel();
        let release = Arc::new(move |stream, c| {
            let _ = consumed_tx.send((stream, c));
        });
        let mut streams = h2_http::session::Session::new(conn, release);
        if let RoleState::Client { pushes: Some(tx) } = &role {
            let tx = tx.clone();
            streams.pushes(Box::new(move |promise| tx.send(promise).is_ok()));
        }
        Session {
            streams,
            role,
            shared,
            user_rx,
            user_open: true,
            route,
            internal_rx,
            consumed_rx,
            error: None,
            handlers: FuturesUnordered::new(),
            fresh_handlers: Vec::new(),
            cancels: HashMap::new(),
            header_bytes_counted: 0,
        }
    }

    pub fn conn(&mut self) -> &mut Connection {
        &mut self.streams.conn
    }

    /// Takes what handles and bodies asked for; true if anything was.
    pub fn poll_commands(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        while self.user_open {
            match self.user_rx.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => self.command(cmd, now),
                Poll::Ready(None) => {
                    // Every user handle is gone: close gracefully once streams finish.
                    self.user_open = false;
                    if matches!(self.role, RoleState::Client { .. }) {
                        let _ = self.conn().shutdown(now);
                    }
                }
                Poll::Pending => break,
            }
            progress = true;
        }
        while let Poll::Ready(Some(cmd)) = self.internal_rx.poll_recv(cx) {
            self.command(cmd, now);
            progress = true;
        }
        while let Poll::Ready(Some((stream, c))) = self.consumed_rx.poll_recv(cx) {
            self.streams.consumed(stream, c);
            progress = true;
        }
        progress
    }

    fn command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Request {
                head,
                body,
                tx,
                reserved,
                options,
            } => {
                self.streams.send_request(head, body, tx, options, now);
                if reserved {
                    // The stream now counts as active (or failed): release the reservation.
                    self.update_slots();
                    self.shared.slots.release();
                }
            }
            Command::Abandoned => self.streams.abandoned(),
            Command::Stream(cmd) => self.streams.stream_command(cmd, now),
            Command::Shutdown => {
                let _ = self.conn().shutdown(now);
            }
            #[cfg(feature = "test-hooks")]
            Command::Core(call) => call(self.conn(), now),
        }
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
                    self.command(cmd, now);
                }
                self.streams.send_response(stream, resp)
            }
            Answer::Panicked => {
                let _ = self.conn().reset(stream, Reason::INTERNAL_ERROR);
            }
            Answer::Cancelled => {}
        }
    }

    /// Handles one event of the core.
    pub fn event(&mut self, event: Event) {
        // The client pool's view of this connection (a server has no pool).
        let client = matches!(self.role, RoleState::Client { .. });
        if client && self.shared.slots.observe(&self.streams.conn, &event) {
            self.shared.changed.notify_waiters();
        }
        #[cfg(feature = "test-hooks")]
        if let RoleState::Tap { events } = &self.role {
            let _ = events.send(event);
            return;
        }
        match &event {
            Event::StreamReset { stream, .. } => {
                // A stream that is gone has no one to answer: its waiting handler is dropped.
                let stream = *stream;
                self.cancels.remove(&stream);
                self.fresh_handlers.retain(|h| h.stream != stream);
            }
            Event::ConnectionTerminated {
                reason,
                remote,
                detail,
            } => {
                // No stream goes on: handlers still waiting are dropped.
                self.cancels.clear();
                self.fresh_handlers.clear();
                if *reason != Reason::NO_ERROR {
                    self.error = Some(Error::Connection {
                        reason: *reason,
                        remote: *remote,
                        detail: detail.clone(),
                    });
                }
            }
            _ => {}
        }
        let Some((stream, mut request)) = self.streams.event(event) else {
            return;
        };
        let RoleState::Server { handler } = &self.role else {
            return;
        };
        let handle = StreamHandle::new(stream, self.route.clone());
        request.extensions_mut().insert(handle);
        self.fresh_handlers
            .push(Responding::new(stream, handler, request));
    }

    /// Sends body chunks as flow control allows (`h2_http::session::Session::poll_bodies`).
    pub fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        self.streams.poll_bodies(cx)
    }

    fn update_slots(&self) {
        if self.shared.slots.update(&self.streams.conn) {
            self.shared.changed.notify_waiters();
        }
    }

    /// After each round: forgets finished streams and publishes the counters.
    pub fn cleanup(&mut self) {
        self.streams.cleanup();
        self.count_header_bytes();
        self.update_slots();
    }

    /// Adds the header bytes sent since the last count to the shared counter.
    fn count_header_bytes(&mut self) {
        let sent = self.streams.conn.stats().header_bytes_sent;
        if sent != self.header_bytes_counted {
            let new = sent - self.header_bytes_counted;
            self.shared.header_bytes.fetch_add(new, Ordering::Relaxed);
            self.header_bytes_counted = sent;
        }
    }

    /// The task ends: handles waiting for this connection learn it is gone; its counters are
    /// final.
    pub fn finish(&mut self) {
        self.count_header_bytes();
        self.shared.slots.finish();
        self.shared.finished.store(true, Ordering::Release);
        self.shared.changed.notify_waiters();
    }
}
