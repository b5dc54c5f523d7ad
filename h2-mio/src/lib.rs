//! HTTP/2 (and HTTP/1.1 on the same port) without an async runtime: one `mio` event loop
//! thread owns every connection, handlers are plain functions run on a small thread pool.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`, every HTTP/1.1 rule in
//! `h2core::http1`. The loop owns, per connection, the socket, a read buffer, a write queue
//! (written with `write_vectored`) and a place in one timer heap fed by the core's
//! `poll_timeout()`.
//!
//! - Server: [`Server::bind`]`(addr)?.serve(handler)`. One port serves HTTP/1.1, h2c by prior
//!   knowledge and `Upgrade: h2c`. The handler gets the request body collected (at most
//!   [`MAX_REQUEST_BODY`]; a larger one is answered `413 Payload Too Large`) and answers with a
//!   whole [`Body`] or a streamed one ([`Body::channel`]).
//! - Client: [`Client::connect`]`(addr)?.send(request)?`, blocking; [`Client::start`] sends
//!   without waiting, so many requests share the connection concurrently.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod event_loop;
mod http1;
mod pool;
pub mod server;

/// Hooks for the shared scenario corpus; not part of the supported API.
#[doc(hidden)]
pub mod testing;

pub use body::{Body, BodySender};
pub use client::{Client, PendingResponse};
pub use event_loop::Io;
pub use server::{Pusher, Server};

use h2core::Reason;

/// The largest request body the server collects for a handler. Beyond it the request is
/// answered `413 Payload Too Large`: over HTTP/2 with END_STREAM and then RST_STREAM NO_ERROR
/// (RFC 9113 §8.1: the client stops sending, the connection lives on); over HTTP/1.1 with
/// `connection: close`, since the rest of the body cannot be skipped cheaply.
pub const MAX_REQUEST_BODY: usize = 16 << 20;

/// Trailers of a response received by the [`Client`], found in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct Trailers(pub http::HeaderMap);

/// What can go wrong, as the user of this crate sees it.
#[derive(Debug)]
pub enum Error {
    /// The transport failed.
    Io(std::io::Error),
    /// The stream was reset (RST_STREAM, RFC 9113 §6.4) with this code.
    Reset(Reason),
    /// The connection ended (GOAWAY or transport closed).
    Connection {
        /// The error code.
        reason: Reason,
        /// True if the peer ended it.
        remote: bool,
        /// Why.
        detail: String,
    },
    /// The call was not allowed (see `h2core::UserError`).
    User(h2core::UserError),
    /// A message could not be represented (bad header name, status, ...).
    Malformed(&'static str),
    /// An HTTP/1.1 message was malformed or incomplete.
    Http1(String),
    /// The event loop is gone.
    ConnectionGone,
    /// The receiving side of a body was dropped (the stream ended).
    BodyDropped,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o: {e}"),
            Error::Reset(r) => write!(f, "stream reset: {r}"),
            Error::Connection {
                reason,
                remote,
                detail,
            } => write!(
                f,
                "connection closed by {} ({reason}): {detail}",
                if *remote { "peer" } else { "us" }
            ),
            Error::User(e) => write!(f, "{e}"),
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::Http1(what) => write!(f, "HTTP/1.1: {what}"),
            Error::ConnectionGone => f.write_str("connection closed"),
            Error::BodyDropped => f.write_str("body receiver dropped"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<h2_http::Malformed> for Error {
    fn from(m: h2_http::Malformed) -> Self {
        Error::Malformed(m.0)
    }
}
