//! Handles on one stream: a server handler's (1xx responses, server push), and a client's
//! pushed response.

use crate::command::Command;
use crate::Body;
use h2_http::Error;
use h2core::StreamId;
use http::{Request, Response};
use tokio::sync::{mpsc, oneshot};

/// The handler's handle on its stream, found in the request's extensions: push responses
/// (RFC 9113 §8.4) and send 1xx informational responses (§8.1) before the final one. Over
/// HTTP/1.1 a 1xx is an interim response (RFC 9110 §15.2), and push fails.
#[derive(Clone)]
pub struct StreamHandle {
    stream: StreamId,
    tx: mpsc::UnboundedSender<Command>,
}

impl StreamHandle {
    pub(crate) fn new(stream: StreamId, tx: mpsc::UnboundedSender<Command>) -> StreamHandle {
        StreamHandle { stream, tx }
    }

    /// Sends a 1xx response (e.g. 103 Early Hints, RFC 8297) ahead of the final response (RFC
    /// 9113 §8.1). One sent before the handler returns goes out before the final head.
    pub fn informational(&self, response: Response<()>) -> Result<(), Error> {
        self.tx
            .send(Command::Informational {
                stream: self.stream,
                head: h2_http::response_to_h2(&response),
            })
            .map_err(|_| Error::ConnectionGone)
    }

    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the promised
    /// stream (RFC 9113 §8.4). Fails when the client disabled push (SETTINGS_ENABLE_PUSH = 0),
    /// and over HTTP/1.1, which has no push.
    pub async fn push(&self, request: Request<()>, response: Response<Body>) -> Result<(), Error> {
        if self.stream == StreamId::ZERO {
            return Err(Error::Malformed("server push needs HTTP/2"));
        }
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Push {
                parent: self.stream,
                request: h2_http::request_to_h2(&request, "http"),
                response,
                tx,
            })
            .map_err(|_| Error::ConnectionGone)?;
        rx.await.map_err(|_| Error::ConnectionGone)?
    }
}

/// A pushed response promised by the server (client side, RFC 9113 §8.4).
pub type PushPromise = h2_http::reply::PushPromise<h2_http::body::Async>;

/// A pushed response on its way; [`PushedResponse::wait`] for its head. Dropping it before the
/// head resets the promised stream with CANCEL (RFC 9113 §8.4).
pub type PushedResponse = h2_http::reply::PushedResponse<h2_http::body::Async>;

/// The responses a server pushes (RFC 9113 §8.4), from `Client::pushes` or a client
/// handshake.
pub struct Pushes(pub(crate) mpsc::UnboundedReceiver<PushPromise>);

impl Pushes {
    /// The next promised response; `None` once no connection can deliver any more.
    pub async fn recv(&mut self) -> Option<PushPromise> {
        self.0.recv().await
    }

    /// Polls for the next promised response.
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<PushPromise>> {
        self.0.poll_recv(cx)
    }
}

impl std::fmt::Debug for Pushes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pushes").finish_non_exhaustive()
    }
}
