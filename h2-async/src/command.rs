//! What the user's handles (a client's `SendRequest`, a handler's `StreamHandle`) ask the
//! connection task to do; the task turns each into calls on the core.

use crate::Body;
use h2_http::body::Async;
use h2_http::handle::StreamCommand;
use h2_http::reply::ReplyTx;
use h2core::Header;

/// One request of a handle to the connection task.
pub(crate) enum Command {
    /// Open a stream with this request (RFC 9113 §8.1).
    Request {
        head: Vec<Header>,
        body: Body,
        /// Where the response head goes; a request refused before any of its body was read
        /// (RFC 9113 §8.7) fails there with the body given back, to be sent elsewhere.
        tx: ReplyTx<Async>,
        /// Set by the client pool: the request holds a reserved slot (`pool::Slots`).
        reserved: bool,
        /// Its 1xx callback and deadline (RFC 9113 §8.1).
        options: h2_http::RequestOptions,
    },
    /// A `send` future was dropped before its response head: reset the streams nobody waits
    /// for any more with CANCEL (RFC 9113 §8.1, §5.4.2).
    Abandoned,
    /// What a handler's `StreamHandle` asked (a 1xx response, a push, RFC 9113 §8.1, §8.4),
    /// or a client's handle: a PING round trip (§6.7), the connection's counters.
    Stream(StreamCommand<Async>),
    /// Graceful shutdown (GOAWAY, §6.8).
    Shutdown,
    /// Runs a closure on the core inside the task (the scenario corpus drives the core this
    /// way through the adapter).
    #[cfg(feature = "test-hooks")]
    Core(CoreCall),
}

/// A call on the core, run inside the connection task (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
pub type CoreCall = Box<dyn FnOnce(&mut h2core::Connection, std::time::Instant) + Send>;
