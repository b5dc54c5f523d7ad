//! Handles on one stream: a server handler's (1xx responses, server push), and a client's
//! pushed response.

use crate::body::Body;
use crate::command::Command;
use crate::convert;
use h2_http::Error;
use h2core::StreamId;
use http::{Request, Response};
use tokio::sync::{mpsc, oneshot};

/// The handler's handle on its HTTP/2 stream, found in the request's extensions: push
/// responses (RFC 9113 §8.4) and send 1xx informational responses (§8.1) before the final one.
#[derive(Clone)]
pub struct StreamHandle {
    stream: StreamId,
    tx: mpsc::UnboundedSender<Command>,
}

impl StreamHandle {
    pub(crate) fn new(stream: StreamId, tx: mpsc::UnboundedSender<Command>) -> StreamHandle {
        StreamHandle { stream, tx }
    }

    /// Sends a 1xx response (e.g. 103 Early Hints) ahead of the final response (RFC 9113
    /// §8.1).
    pub fn informational(&self, response: Response<()>) -> Result<(), Error> {
        self.tx
            .send(Command::Informational {
                stream: self.stream,
                head: convert::response_to_h2(&response),
            })
            .map_err(|_| Error::ConnectionGone)
    }

    /// Promises `request` (a GET or HEAD with an authority) and sends `response` on the promised
    /// stream (RFC 9113 §8.4). Fails when the client disabled push (SETTINGS_ENABLE_PUSH = 0).
    pub async fn push(&self, request: Request<()>, response: Response<Body>) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        let head = convert::response_to_h2(&response);
        self.tx
            .send(Command::Push {
                parent: self.stream,
                request: convert::request_to_h2(&request, "http"),
                head,
                body: response.into_body(),
                tx,
            })
            .map_err(|_| Error::ConnectionGone)?;
        rx.await.map_err(|_| Error::ConnectionGone)?
    }
}

/// A pushed response promised by the server (client side, RFC 9113 §8.4).
pub struct PushPromise {
    /// The promised request.
    pub request: Request<()>,
    /// The pushed response, when it arrives.
    pub response: oneshot::Receiver<Result<Response<Body>, Error>>,
}
