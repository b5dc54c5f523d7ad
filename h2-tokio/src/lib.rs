//! HTTP/2 for tokio on the sans-IO `h2core`, with HTTP/1.1 on the same port.
//!
//! This crate only moves bytes: every HTTP/2 rule lives in `h2core`. Each connection is one
//! task ([`Driver`]) owning the socket, a read buffer, a write queue and one timer.
//!
//! - Server: [`Server::bind`]`(addr).await?.serve(handler)`, or [`server::handshake`] over any
//!   transport. One cleartext port serves HTTP/1.1, h2c by prior knowledge and `Upgrade: h2c`.
//! - Client: [`Client::connect`]`(addr)` then `send(request)`, or [`client::handshake`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
pub mod client;
mod convert;
mod driver;
mod http1;
pub mod server;
pub mod tls;

/// Hooks for the shared scenario corpus; not part of the supported API.
#[doc(hidden)]
pub mod testing;

pub use body::{Body, BodySender, Frame};
pub use client::{Client, SendRequest};
pub use driver::{CoreCall, Driver, PushPromise};
pub use server::{Server, StreamHandle};

use h2core::Reason;

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
    /// An HTTP/1.1 message was malformed or incomplete (e.g. a truncated chunked body).
    Http1(String),
    /// The connection task is gone.
    ConnectionGone,
    /// The receiving side of a body was dropped.
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
