//! Handles on one stream, the same on every runtime. A server handler's [`StreamHandle`],
//! which [`StreamHandle::of`] finds for its request, sends 1xx responses before the final
//! one (RFC 9113 §8.1), pushes responses (§8.4) and reads its connection's counters and the
//! peer's settings.
//! A client's [`RequestHandle`], found in a response's extensions, changes the priority of the
//! request's stream (RFC 9218 §7.1, PRIORITY_UPDATE). What a handle asks goes to the connection
//! as a [`StreamCommand`], which the adapter hands to
//! [`Session::stream_command`](crate::session::Session::stream_command) (or, over HTTP/1.1, to
//! [`Http1Server::stream_command`](crate::http1::Http1Server::stream_command)).

use crate::body::{Async, Blocking, Body, Mode};
use crate::oneshot;
use crate::{Error, Priority};
use h2core::{Header, SettingsValues, Stats, StreamId};
use http::{Request, Response};
use std::sync::Arc;
use std::time::Duration;

/// One HTTP/2 connection as it is now, client or server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Its counters: streams opened, refused and reset, bytes and frames in and out, GOAWAYs,
    /// and the connection's flow-control windows (RFC 9113 §6.9).
    pub stats: Stats,
    /// The peer's SETTINGS in force (RFC 9113 §6.5.2).
    pub peer_settings: SettingsValues,
}

/// What a handler's [`StreamHandle`] asks of its connection.
pub enum StreamCommand<M: Mode> {
    /// A 1xx response on `stream` ahead of the final one.
    Informational {
        /// The stream (`StreamId::ZERO` over HTTP/1.1).
        stream: StreamId,
        /// The response head, `:status` first.
        head: Vec<Header>,
    },
    /// PUSH_PROMISE `request` on `parent`, then `response` on the promised stream; the
    /// outcome goes to `done`.
    Push {
        /// The stream whose request the push belongs to.
        parent: StreamId,
        /// The promised request's head.
        request: Vec<Header>,
        /// The pushed response.
        response: Response<Body<M>>,
        /// Where the outcome goes.
        done: oneshot::Sender<Result<(), Error>>,
    },
    /// The connection's [`ConnectionInfo`] (HTTP/2 only).
    Info {
        /// Where it goes.
        done: oneshot::Sender<Result<ConnectionInfo, Error>>,
    },
    /// A PING round trip (RFC 9113 §6.7; HTTP/2 only).
    Ping {
        /// Where the round-trip time goes.
        done: oneshot::Sender<Result<Duration, Error>>,
    },
    /// Client: a new priority for the request on `stream` (RFC 9218 §7.1: PRIORITY_UPDATE;
    /// HTTP/2 only).
    Reprioritize {
        /// The request's stream.
        stream: StreamId,
        /// Its new urgency and incremental flag.
        priority: Priority,
        /// Where the outcome goes.
        done: oneshot::Sender<Result<(), Error>>,
    },
}

impl<M: Mode> StreamCommand<M> {
    /// Asks for the connection's [`ConnectionInfo`]; the receiver gets it.
    pub fn info() -> (
        StreamCommand<M>,
        oneshot::Receiver<Result<ConnectionInfo, Error>>,
    ) {
        let (done, rx) = oneshot::channel(None);
        (StreamCommand::Info { done }, rx)
    }

    /// Asks for a PING round trip; the receiver gets its time.
    pub fn ping() -> (StreamCommand<M>, oneshot::Receiver<Result<Duration, Error>>) {
        let (done, rx) = oneshot::channel(None);
        (StreamCommand::Ping { done }, rx)
    }

    /// Answers a command a connection cannot carry out (HTTP/1.1 has no push, PING or
    /// HTTP/2 counters), so its caller learns why.
    pub fn refuse(self, why: &'static str) {
        match self {
            StreamCommand::Informational { .. } => {}
            StreamCommand::Push { done, .. } => done.send(Err(Error::Malformed(why))),
            StreamCommand::Info { done } => done.send(Err(Error::Malformed(why))),
            StreamCommand::Ping { done } => done.send(Err(Error::Malformed(why))),
            StreamCommand::Reprioritize { done, .. } => done.send(Err(Error::Malformed(why))),
        }
    }
}

/// How a handle reaches its connection: false once the connection is gone.
pub type Route<M> = Arc<dyn Fn(StreamCommand<M>) -> bool + Send + Sync>;

/// The handler's handle on its stream, which [`StreamHandle::of`] finds for its request: push
/// responses (RFC 9113 §8.4) and send 1xx informational responses (§8.1) before the final
/// one. Over HTTP/1.1 a 1xx is an interim response (RFC 9110 §15.2), and push fails.
pub struct StreamHandle<M: Mode> {
    stream: StreamId,
    route: Route<M>,
}

impl<M: Mode> Clone for StreamHandle<M> {
    fn clone(&self) -> Self {
        StreamHandle {
            stream: self.stream,
            route: self.route.clone(),
        }
    }
}

impl<M: Mode> std::fmt::Debug for StreamHandle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamHandle")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<M: Mode> StreamHandle<M> {
    /// The handler's way to get the handle of its request's stream, to push responses (RFC
    /// 9113 §8.4) or send 1xx responses before the final one (§8.1); `None` for a request no
    /// server received.
    ///
    /// A received request carries it in its body, where it costs no allocation per request
    /// (http's extensions would allocate a map). A request whose body was replaced (tower or
    /// axum map the body type before the handler runs) finds it in its extensions instead,
    /// where `serve_service` puts it, as may anyone: one found there is returned too.
    pub fn of(req: &Request<Body<M>>) -> Option<StreamHandle<M>> {
        let carried = req.body().origin().and_then(|origin| {
            let route = origin.route.downcast_ref::<Route<M>>()?;
            Some(StreamHandle::new(origin.stream, route.clone()))
        });
        carried.or_else(|| req.extensions().get::<StreamHandle<M>>().cloned())
    }

    /// For adapters: the handle of `stream` (`StreamId::ZERO` over HTTP/1.1), whose commands
    /// go through `route`.
    pub fn new(stream: StreamId, route: Route<M>) -> StreamHandle<M> {
        StreamHandle { stream, route }
    }

    /// Sends a 1xx response (e.g. 103 Early Hints, RFC 8297) ahead of the final response (RFC
    /// 9113 §8.1; over HTTP/1.1 an interim response, RFC 9110 §15.2, which an HTTP/1.0 client
    /// does not get). One sent before the handler returns goes out before the final head;
    /// afterwards it is ignored.
    pub fn informational(&self, response: Response<()>) -> Result<(), Error> {
        let head = crate::response_to_h2(&response);
        let sent = (self.route)(StreamCommand::Informational {
            stream: self.stream,
            head,
        });
        sent.then_some(()).ok_or(Error::ConnectionGone)
    }

    /// Asks for the push; the receiver gets the outcome.
    fn start_push(
        &self,
        request: Request<()>,
        response: Response<Body<M>>,
    ) -> Result<oneshot::Receiver<Result<(), Error>>, Error> {
        if self.stream == StreamId::ZERO {
            return Err(Error::Malformed("server push needs HTTP/2"));
        }
        let (done, outcome) = oneshot::channel(None);
        let sent = (self.route)(StreamCommand::Push {
            parent: self.stream,
            request: crate::request_to_h2(&request, "http"),
            response,
            done,
        });
        sent.then_some(outcome).ok_or(Error::ConnectionGone)
    }

    /// Sends `cmd`, whose answer comes to `rx`.
    fn ask<T>(
        &self,
        (cmd, rx): (StreamCommand<M>, oneshot::Receiver<Result<T, Error>>),
    ) -> Result<oneshot::Receiver<Result<T, Error>>, Error> {
        (self.route)(cmd).then_some(rx).ok_or(Error::ConnectionGone)
    }
}

impl StreamHandle<Async> {
    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the
    /// promised stream (RFC 9113 §8.4). Fails when the client disabled push
    /// (SETTINGS_ENABLE_PUSH = 0), and over HTTP/1.1, which has no push.
    pub async fn push(
        &self,
        request: Request<()>,
        response: Response<Body<Async>>,
    ) -> Result<(), Error> {
        let outcome = self.start_push(request, response)?;
        outcome.await.unwrap_or(Err(Error::ConnectionGone))
    }

    /// The connection's counters and the peer's settings (HTTP/2 only).
    pub async fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        let rx = self.ask(StreamCommand::info())?;
        rx.await.unwrap_or(Err(Error::ConnectionGone))
    }
}

impl StreamHandle<Blocking> {
    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the
    /// promised stream, blocking until the connection did (RFC 9113 §8.4). Call it before
    /// returning the response of the request it came with. Fails when the client disabled
    /// push (SETTINGS_ENABLE_PUSH = 0), and over HTTP/1.1, which has no push.
    pub fn push(
        &self,
        request: Request<()>,
        response: Response<Body<Blocking>>,
    ) -> Result<(), Error> {
        let mut outcome = self.start_push(request, response)?;
        outcome.wait().unwrap_or(Err(Error::ConnectionGone))
    }

    /// The connection's counters and the peer's settings (HTTP/2 only), blocking until the
    /// connection answered.
    pub fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        let mut rx = self.ask(StreamCommand::info())?;
        rx.wait().unwrap_or(Err(Error::ConnectionGone))
    }
}

/// A client's handle on one request it sent over HTTP/2, found in the extensions of the
/// response (pushed responses included): [`reprioritize`](RequestHandle::reprioritize)
/// changes the priority of its stream while the response is still coming (RFC 9218 §7.1), as
/// a browser does for an image scrolled into view. The request's first priority is the
/// [`Priority`] in its extensions (its `priority` header field, §5).
pub struct RequestHandle<M: Mode> {
    stream: StreamId,
    route: Route<M>,
}

impl<M: Mode> Clone for RequestHandle<M> {
    fn clone(&self) -> Self {
        RequestHandle {
            stream: self.stream,
            route: self.route.clone(),
        }
    }
}

impl<M: Mode> std::fmt::Debug for RequestHandle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHandle")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<M: Mode> RequestHandle<M> {
    /// For adapters: the handle of the request on `stream`, whose commands go through `route`.
    pub fn new(stream: StreamId, route: Route<M>) -> RequestHandle<M> {
        RequestHandle { stream, route }
    }

    /// The request's stream (RFC 9113 §5.1.1).
    pub fn stream_id(&self) -> StreamId {
        self.stream
    }

    /// Asks the connection to reprioritize; the receiver gets the outcome.
    fn start_reprioritize(
        &self,
        priority: Priority,
    ) -> Result<oneshot::Receiver<Result<(), Error>>, Error> {
        let (done, rx) = oneshot::channel(None);
        let cmd = StreamCommand::Reprioritize {
            stream: self.stream,
            priority,
            done,
        };
        (self.route)(cmd).then_some(rx).ok_or(Error::ConnectionGone)
    }
}

impl RequestHandle<Async> {
    /// Gives the request `priority` from now on (RFC 9218 §7.1): the connection sends
    /// PRIORITY_UPDATE for its stream (when the server's SETTINGS did not say it ignores RFC
    /// 9218 signals, SETTINGS_NO_RFC7540_PRIORITIES absent, §2.1) and schedules what it
    /// sends on the stream by it. Urgency above 7 is sent as 7. Fails with
    /// `Error::User(UserError::InactiveStream)` once the response is complete, and with
    /// [`Error::ConnectionGone`] once the connection is.
    pub async fn reprioritize(&self, priority: Priority) -> Result<(), Error> {
        let rx = self.start_reprioritize(priority)?;
        rx.await.unwrap_or(Err(Error::ConnectionGone))
    }
}

impl RequestHandle<Blocking> {
    /// Gives the request `priority` from now on (RFC 9218 §7.1), blocking until the
    /// connection queued the PRIORITY_UPDATE; see the async adapters' `reprioritize`.
    pub fn reprioritize(&self, priority: Priority) -> Result<(), Error> {
        let mut rx = self.start_reprioritize(priority)?;
        rx.wait().unwrap_or(Err(Error::ConnectionGone))
    }
}
