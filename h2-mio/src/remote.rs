//! Who a loop works for ([`Role`]) and how other threads reach it: messages through a channel
//! with a `mio::Waker`, each naming its connection by a [`Key`].

use crate::body::{Body, Notify};
use bytes::Bytes;
use h2_http::Error;
use h2core::shell::pool::Slots;
use h2core::{Config, Header, StreamId};
use http::{Request, Response};
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// Names one connection; `id` tells a reused slab slot from the connection a message meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) slot: usize,
    pub(crate) id: u64,
}

/// A reply to a client request.
pub(crate) type ReplyTx = mpsc::Sender<Result<Response<Bytes>, Error>>;

/// Server: runs the handler for a whole request (HTTP/1.1 requests come on stream 0); its
/// response comes back as [`Msg::Respond`].
pub(crate) type Dispatch = Arc<dyn Fn(Key, StreamId, Request<Bytes>) + Send + Sync>;

/// What reaches the loop from other threads.
pub(crate) enum Msg {
    Respond {
        key: Key,
        stream: StreamId,
        response: Response<Body>,
    },
    Push {
        key: Key,
        parent: StreamId,
        request: Vec<Header>,
        response: Response<Body>,
        reply: mpsc::Sender<Result<(), Error>>,
    },
    /// A streamed body has something new.
    Body { key: Key },
    /// Client: start a request on the (only) connection.
    Request {
        head: Vec<Header>,
        body: Bytes,
        reply: ReplyTx,
        /// The pool reserved a slot for it, released once the stream is open (or failed).
        reserved: bool,
    },
    /// Client: the response on `stream` (stream 1 after an upgrade) goes to `reply`.
    Expect { stream: StreamId, reply: ReplyTx },
    /// Graceful shutdown of every connection (GOAWAY, RFC 9113 §6.8).
    Shutdown,
}

/// A handle other threads use to reach the loop.
#[derive(Clone)]
pub(crate) struct Remote {
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) waker: Arc<mio::Waker>,
}

impl Remote {
    pub(crate) fn send(&self, msg: Msg) -> Result<(), Error> {
        self.tx.send(msg).map_err(|_| Error::ConnectionGone)?;
        self.waker.wake().map_err(Error::Io)
    }

    /// Tells the loop when a streamed body of connection `key` has something new.
    pub(crate) fn body_notify(&self, key: Key) -> Notify {
        let remote = self.clone();
        Box::new(move || {
            let _ = remote.send(Msg::Body { key });
        })
    }
}

/// Who the loop works for.
pub(crate) enum Role {
    Server {
        dispatch: Dispatch,
    },
    /// One connection of a client's pool: its slots are published for the pool, and `wake`
    /// tells the requests waiting on it to look again.
    Client {
        slots: Arc<Slots>,
        wake: Arc<dyn Fn() + Send + Sync>,
    },
    /// Every core event goes out raw (the scenario corpus through the adapter).
    #[cfg(feature = "test-hooks")]
    Tap {
        events: mpsc::Sender<h2core::Event>,
    },
}

/// What a connection's step needs from the loop.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) key: Key,
    pub(crate) role: &'a Role,
    pub(crate) config: &'a Config,
}
