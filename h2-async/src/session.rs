//! One connection inside its task: the connection itself is `h2_http::shell` (deciding what
//! it speaks, HTTP/1.1, `Upgrade: h2c`, HTTP/2's streams: the same on every runtime); here
//! are what only a task has: the commands its handles send, the handlers it polls (HTTP/1.1
//! and HTTP/2 alike), and the client pool's view of it. The socket and the timer are the
//! driver's (`driver.rs`).

use crate::handler::{Answer, Called, Calls, Handler, Responding};
use crate::shared::Shared;
use crate::Body;
use bytes::BytesMut;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2_http::body::Async;
use h2_http::drive::Input;
use h2_http::shell::Shell;

/// What the connection's handles and bodies ask of its task (`h2_http::drive::Command`).
pub(crate) type Command = h2_http::drive::Command<Async>;
use h2_http::handle::Route;
use h2_http::pool::{Running, Seat};
use h2_http::session::PushSink;
use h2core::shell::Accept;
#[cfg(feature = "test-hooks")]
use h2core::Event;
use h2core::{Connection, StreamId};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// How a connection starts: accepted by a server (what it speaks still to decide), or
/// speaking HTTP/2 already.
// Moved once per connection, into the shell: not worth an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Start {
    Accept(Accept),
    Http2(Connection),
}

pub(crate) enum RoleState {
    Server {
        handler: Handler,
    },
    Client {
        /// Where pushed responses go (none: every promise is cancelled).
        pushes: Option<PushSink<Async>>,
        /// Where the connection adds the header bytes it sends: its pool's count, or its own.
        header_bytes: Arc<AtomicU64>,
        /// Its client's waiters, woken when its slots change (none for a lone connection).
        pool_wake: Option<Arc<dyn Fn() + Send + Sync>>,
    },
    /// Every core event goes to this channel as it is (the scenario corpus through the adapter).
    #[cfg(feature = "test-hooks")]
    Tap {
        events: mpsc::UnboundedSender<Event>,
    },
}

/// One connection, and the task's own parts.
pub(crate) struct Session {
    /// The connection as every adapter drives it (`h2_http::shell`).
    pub shell: Shell<Async>,
    /// Server: answers each request.
    handler: Option<Box<dyn Calls>>,
    client: bool,
    pub shared: Arc<Shared>,
    /// Counts this task in `shared` until it ends.
    running: Option<Running>,
    user_rx: mpsc::UnboundedReceiver<Command>,
    user_open: bool,
    /// What handles and the readers of received bodies ask.
    internal_rx: mpsc::UnboundedReceiver<Command>,
    /// The handlers answering requests on this connection, polled inside this task: a
    /// response needs no task spawn nor channel hop, and the responses to a batch of requests
    /// go out in the write that follows it.
    handlers: FuturesUnordered<Responding>,
    /// Requests of this round whose bodies are still to come, their handlers not called yet
    /// (see `poll_handlers`).
    fresh: Vec<(StreamId, http::Request<Body>)>,
    /// Answers that came at once but wait for the commands their handlers sent first.
    later: Vec<(StreamId, Answer)>,
    /// Dropping one cancels the waiting handler of its stream.
    cancels: HashMap<StreamId, oneshot::Sender<()>>,
}

impl Session {
    /// `read_buf`: bytes already received for an HTTP/2 start (after a 101).
    pub fn new(
        start: Start,
        read_buf: BytesMut,
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
        let mut shell = match start {
            Start::Accept(accept) => Shell::accept(accept, release, route.clone()),
            Start::Http2(conn) => Shell::http2(conn, release, route.clone(), read_buf),
        };
        let (mut handler, mut client) = (None, false);
        match (role, shell.drive()) {
            (RoleState::Server { handler: h }, _) => handler = Some(h.calls()),
            (
                RoleState::Client {
                    pushes,
                    header_bytes,
                    pool_wake,
                },
                Some(drive),
            ) => {
                client = true;
                let wake = pool_wake.unwrap_or_else(|| Arc::new(|| {}));
                let seat = Seat::new(shared.slots.clone(), header_bytes, wake);
                drive.client(route, pushes, seat);
            }
            #[cfg(feature = "test-hooks")]
            (RoleState::Tap { events }, Some(drive)) => drive.tap(Box::new(move |e| {
                let _ = events.send(e);
            })),
            // Clients and taps start in HTTP/2.
            _ => {}
        }
        Session {
            shell,
            handler,
            client,
            running: Some(shared.task.start()),
            shared,
            user_rx,
            user_open: true,
            internal_rx,
            handlers: FuturesUnordered::new(),
            fresh: Vec::new(),
            later: Vec::new(),
            cancels: HashMap::new(),
        }
    }

    /// Takes what handles and bodies asked for; true if anything was.
    pub fn poll_commands(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        while self.user_open {
            match self.user_rx.poll_recv(cx) {
                Poll::Ready(Some(cmd)) => self.shell.command(cmd, now),
                Poll::Ready(None) => {
                    // Every user handle is gone: close gracefully once streams finish.
                    self.user_open = false;
                    if self.client {
                        self.shell.shutdown(now);
                    }
                }
                Poll::Pending => break,
            }
            progress = true;
        }
        while let Poll::Ready(Some(cmd)) = self.internal_rx.poll_recv(cx) {
            self.shell.command(cmd, now);
            progress = true;
        }
        progress
    }

    /// Calls the handlers of this round's requests and polls the waiting ones; true if one
    /// answered (or panicked: `Shell::handler_failed`).
    pub fn poll_handlers(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut answered = false;
        // Called after the round's input, so that a request's body that came with it is
        // there when its handler first looks (one without a body was called at once, in
        // `poll_inputs`). Most answer at once, and then never need a place in the set, nor a
        // way to be cancelled. One that waits joins it, whose next poll registers the set's
        // own waker for it.
        if let Some(mut calls) = self.handler.take() {
            let mut fresh = std::mem::take(&mut self.fresh);
            for (stream, request) in fresh.drain(..) {
                match calls.call(stream, request, cx) {
                    Called::Answered(answer) => {
                        answered = true;
                        self.answered(stream, answer, now);
                    }
                    Called::Waiting(mut h) => {
                        self.cancels.insert(stream, h.cancellable());
                        self.handlers.push(h);
                    }
                }
            }
            self.fresh = fresh;
            self.handler = Some(calls);
        }
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
                    self.shell.command(cmd, now);
                }
                self.shell.respond(stream, resp);
            }
            Answer::Panicked => self.shell.handler_failed(stream),
            Answer::Cancelled => {}
        }
    }

    /// Takes what the connection has for the task: requests (HTTP/1.1 and HTTP/2) start
    /// their handlers, a stream or the connection that is gone drops the handlers still
    /// waiting on it. True if anything did.
    ///
    /// A request without a body is answered here if its handler answers when first polled:
    /// the response goes to the connection as the request came, with no stop on the way.
    pub fn poll_inputs(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let Session {
            shell,
            handler,
            internal_rx,
            handlers,
            fresh,
            later,
            cancels,
            ..
        } = self;
        // The shell holds `cx` while it polls; the handlers get the same waker.
        let waker = cx.waker().clone();
        let mut handler_cx = Context::from_waker(&waker);
        let any = shell.poll(now, cx, |input| {
            match input {
                Input::Request(stream, request) => {
                    let calls = handler.as_mut()?;
                    // One whose body is still to come is called after the round's input,
                    // which may hold some of it.
                    if !request.body().is_end_stream() {
                        fresh.push((stream, request));
                        return None;
                    }
                    match calls.call(stream, request, &mut handler_cx) {
                        // Sent at once unless the handler asked for something first (a 103
                        // Early Hints, a push), which goes before the final response: a 1xx
                        // after it is refused (RFC 9113 §8.1).
                        Called::Answered(Answer::Response(response)) if internal_rx.is_empty() => {
                            return Some(response)
                        }
                        Called::Answered(answer) => later.push((stream, answer)),
                        Called::Waiting(mut h) => {
                            cancels.insert(stream, h.cancellable());
                            handlers.push(h);
                        }
                    }
                }
                Input::Reset(stream) => {
                    cancels.remove(&stream);
                    fresh.retain(|(s, _)| *s != stream);
                    later.retain(|(s, _)| *s != stream);
                }
                Input::Closed => {
                    cancels.clear();
                    fresh.clear();
                    later.clear();
                }
            }
            None
        });
        if !self.later.is_empty() {
            let mut later = std::mem::take(&mut self.later);
            for (stream, answer) in later.drain(..) {
                self.answered(stream, answer, now);
            }
            self.later = later;
        }
        any
    }

    /// The task ends: handles waiting for this connection learn it is gone; its counters are
    /// final.
    pub fn finish(&mut self) {
        self.shell.finish();
        self.shared.slots.finish();
        self.running = None;
    }
}
