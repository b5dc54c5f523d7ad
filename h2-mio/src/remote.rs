//! Who a loop works for ([`Role`]) and how other threads reach it: messages through a channel
//! with a `mio::Waker`, each naming its connection by a [`Key`].

use crate::Body;
use h2_http::body::{Blocking, Release};
use h2_http::client::Listener;
use h2_http::drive::Command;
use h2_http::handle::{Route, StreamCommand};
use h2_http::Error;
use h2core::shell::pool::Slots;
use h2core::StreamId;
use http::{Request, Response};
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc};
use std::task::{Wake, Waker};
use std::time::Instant;

/// Names one connection; `id` tells a reused slab slot from the connection a message meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) slot: usize,
    pub(crate) id: u64,
}

/// Server: runs the handler for a request whose head arrived (HTTP/1.1 requests come on
/// stream 0); its body streams. A handler run on the loop's thread answers at once (`Some`);
/// one run on a handler thread answers later, as `Command::Respond`.
pub(crate) type Dispatch =
    Arc<dyn Fn(Key, StreamId, Request<Body>) -> Option<Response<Body>> + Send + Sync>;

thread_local! {
    /// Set while a handler runs on the loop's own thread: what would wait for the loop
    /// (a push, the connection's counters) fails at once instead of waiting for ever.
    pub(crate) static ON_LOOP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What reaches the loop from other threads.
// Most messages are `Conn`s (answers, bodies' reports): boxing the command would allocate for
// each of them, where a larger slot in the channel's blocks costs no allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    /// For connection `key` (`None`: the loop's only one, a client's): a request, a handler's
    /// answer or `StreamHandle` call, what a body's reader consumed (`h2_http::drive::Command`).
    Conn {
        key: Option<Key>,
        cmd: Command<Blocking>,
    },
    /// A body the loop sends has something new.
    Body { key: Key },
    /// Graceful shutdown of every connection (GOAWAY, RFC 9113 §6.8).
    Shutdown,
    /// Server: a connection another loop of the server accepted, to serve here.
    Adopt { stream: mio::net::TcpStream },
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

    /// Sends `cmd` to connection `key` (`None`: a client loop's only one).
    pub(crate) fn command(&self, key: Option<Key>, cmd: Command<Blocking>) -> Result<(), Error> {
        self.send(Msg::Conn { key, cmd })
    }

    /// As [`command`](Self::command), but a loop that is gone gives the command back.
    pub(crate) fn try_command(&self, cmd: Command<Blocking>) -> Result<(), Box<Command<Blocking>>> {
        let msg = Msg::Conn { key: None, cmd };
        self.tx.send(msg).map_err(|e| match e.0 {
            Msg::Conn { cmd, .. } => Box::new(cmd),
            _ => unreachable!("sent a command"),
        })?;
        let _ = self.waker.wake();
        Ok(())
    }

    /// Brings the loop back to connection `key` when a body it sends has something new.
    pub(crate) fn body_waker(&self, key: Key) -> Waker {
        struct BodyWake(Remote, Key);
        impl Wake for BodyWake {
            fn wake(self: Arc<Self>) {
                let _ = self.0.send(Msg::Body { key: self.1 });
            }
        }
        Waker::from(Arc::new(BodyWake(self.clone(), key)))
    }

    /// How the handlers of connection `key` reach it (`StreamHandle`).
    pub(crate) fn route(&self, key: Key) -> Route<Blocking> {
        let remote = self.clone();
        Arc::new(move |cmd| {
            if ON_LOOP.get() && !matches!(cmd, StreamCommand::Informational { .. }) {
                // Its caller waits for the loop's answer, which cannot come while the loop
                // runs that caller.
                cmd.refuse(
                    "waiting for the event loop on its own thread (see Server::handler_threads)",
                );
                return true;
            }
            remote.command(Some(key), Command::Stream(cmd)).is_ok()
        })
    }

    /// Tells the loop what the readers of connection `key`'s received bodies consumed.
    pub(crate) fn release(&self, key: Key) -> Release {
        let remote = self.clone();
        Arc::new(move |stream, consumed| {
            let _ = remote.command(Some(key), Command::Consumed { stream, consumed });
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
        /// Where promised responses go while someone listens ([`crate::Client::pushes`]).
        pushes: Listener<Blocking>,
        /// The pool's count of header bytes sent (`ClientStats::header_bytes_sent`).
        header_bytes: Arc<AtomicU64>,
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
    pub(crate) remote: &'a Remote,
}
